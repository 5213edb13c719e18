#ifndef PULPKIT_CZLIB_SHIM_H
#define PULPKIT_CZLIB_SHIM_H
#include <zlib.h>
#endif
