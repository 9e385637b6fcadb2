/* SPDX-License-Identifier: MIT */
/* offsetof, which the kernel's <linux/stddef.h> gives. */
#ifndef KSHIM_LINUX_STDDEF_H
#define KSHIM_LINUX_STDDEF_H

#include_next <linux/stddef.h>

#include <stddef.h>

#endif
