#ifndef KITT_CZLIB_SHIM_H
#define KITT_CZLIB_SHIM_H
#include <zlib.h>
#endif
