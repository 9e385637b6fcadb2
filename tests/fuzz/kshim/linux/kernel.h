/* SPDX-License-Identifier: MIT */
/* ARRAY_SIZE and the U*_MAX limits. */
#ifndef KSHIM_LINUX_KERNEL_H
#define KSHIM_LINUX_KERNEL_H

#include <stdint.h>

#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))
#define U16_MAX UINT16_MAX
#define U32_MAX UINT32_MAX

#endif
