/* rights.h: access rights carried by a capability; derivation can only remove them. */
#ifndef FERRY_UAPI_RIGHTS_H
#define FERRY_UAPI_RIGHTS_H

#define FERRY_RIGHT_READ        0x1UL  /* receive / read (frames, registers) */
#define FERRY_RIGHT_WRITE       0x2UL  /* send / write / modify the object */
#define FERRY_RIGHT_GRANT       0x4UL  /* pass capabilities along with a message */
#define FERRY_RIGHT_GRANT_REPLY 0x8UL  /* pass capabilities in a reply only */
#define FERRY_RIGHTS_ALL        0xfUL

#endif
