/* strerror.c: the messages of the errno values libc sets. */
#include <errno.h>
#include <string.h>

char *strerror(int e)
{
    switch (e) {
    case 0:       return "Success";
    case EPERM:   return "Operation not permitted";
    case ENOENT:  return "No such file or directory";
    case ESRCH:   return "No such process";
    case EINTR:   return "Interrupted system call";
    case EIO:     return "Input/output error";
    case E2BIG:   return "Argument list too long";
    case ENOEXEC: return "Exec format error";
    case EBADF:   return "Bad file descriptor";
    case ECHILD:  return "No child processes";
    case EAGAIN:  return "Resource temporarily unavailable";
    case ENOMEM:  return "Cannot allocate memory";
    case EACCES:  return "Permission denied";
    case EFAULT:  return "Bad address";
    case EEXIST:  return "File exists";
    case EINVAL:  return "Invalid argument";
    case ENOSPC:  return "No space left on device";
    case EPIPE:   return "Broken pipe";
    case ERANGE:  return "Numerical result out of range";
    case ENAMETOOLONG: return "File name too long";
    case ENOSYS:  return "Function not implemented";
    default:      return "Unknown error";
    }
}
