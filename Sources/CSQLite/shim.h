#ifndef PULPKIT_CSQLITE_SHIM_H
#define PULPKIT_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
