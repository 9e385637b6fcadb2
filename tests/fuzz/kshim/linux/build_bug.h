/* SPDX-License-Identifier: MIT */
/* The kernel's static_assert, whose message is optional. */
#ifndef KSHIM_LINUX_BUILD_BUG_H
#define KSHIM_LINUX_BUILD_BUG_H

#include <assert.h>

#undef static_assert
#define static_assert(expr, ...) _Static_assert(expr, #expr)

#endif
