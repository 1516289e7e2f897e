from .fashion_mnist import (DEBIAN_FASHION_MNIST, OfflineFashionMNIST,
                            prepare_fashion_mnist)

__all__ = ['DEBIAN_FASHION_MNIST', 'OfflineFashionMNIST', 'prepare_fashion_mnist']
