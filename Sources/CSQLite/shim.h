#ifndef KITT_CSQLITE_SHIM_H
#define KITT_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
