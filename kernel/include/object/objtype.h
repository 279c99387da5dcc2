/* objtype.h: per-type object knowledge: sizes, initialisation and destruction on last delete. */
#ifndef FERRY_OBJECT_OBJTYPE_H
#define FERRY_OBJECT_OBJTYPE_H

#include <object/cap.h>

/* log2 size in bytes of an object of this type (user_bits: untyped size or
 * CNode radix), or 0 if type/user_bits are out of range. */
unsigned object_size_bits(word_t type, word_t user_bits);

/* Make the capability for a freshly retyped (zeroed) object and initialise
 * the object.  Rights are all rights. */
struct cap object_create(word_t type, paddr_t paddr, unsigned user_bits, bool device);

/* Per-type cleanup when the last capability to an object is deleted, for
 * objects that hold no capabilities themselves (endpoint, notification,
 * arch types).  Containers (CNode, TCB) go through the reaper in cnode.c. */
void object_destroy(const struct cap *cap);

#endif
