from .agreement import TeacherStudentAgreement

__all__ = ['TeacherStudentAgreement']
