#ifndef KITT_CSQLITE_SHIM_H
#define KITT_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro ((sqlite3_destructor_type)-1) that Swift cannot import.
// It tells SQLite to copy the bytes before the bind call returns, so Swift may pass
// pointers that are only valid inside withUTF8 / withUnsafeBytes.
static inline sqlite3_destructor_type kitt_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

// Binds text with an explicit byte length (never -1), so text with embedded NULs
// round-trips. A NULL pointer (Swift may hand one over for an empty buffer) would bind
// SQL NULL, so an empty string is bound from a static "" instead.
static inline int kitt_sqlite_bind_text(sqlite3_stmt *stmt, int index, const void *bytes,
                                        sqlite3_uint64 length) {
    return sqlite3_bind_text64(stmt, index, bytes ? (const char *)bytes : "", length,
                               SQLITE_TRANSIENT, SQLITE_UTF8);
}

// Binds a blob with an explicit byte length. sqlite3_bind_blob with a NULL pointer binds
// SQL NULL, so a zero-length blob is bound as a zero-length zeroblob (an empty BLOB).
static inline int kitt_sqlite_bind_blob(sqlite3_stmt *stmt, int index, const void *bytes,
                                        sqlite3_uint64 length) {
    if (length == 0 || bytes == 0) {
        return sqlite3_bind_zeroblob(stmt, index, 0);
    }
    return sqlite3_bind_blob64(stmt, index, bytes, length, SQLITE_TRANSIENT);
}

// Turns off SQLite's memory statistics: with them on, every allocation takes a global mutex
// (kitt never reads them). Only takes effect before SQLite is first used in the process
// (SQLITE_MISUSE afterwards, which is harmless).
static inline int kitt_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

// WAL size tracking for kitt's own checkpoint policy. sqlite3_wal_hook calls this after
// every commit with the number of frames in the WAL (since its last restart); installing
// it also turns off SQLite's automatic checkpoint (which is itself a wal hook).
static int kitt_sqlite_wal_frames_hook(void *counter, sqlite3 *db, const char *name, int frames) {
    (void)db;
    (void)name;
    *(int *)counter = frames;
    return SQLITE_OK;
}

static inline void kitt_sqlite_track_wal_frames(sqlite3 *db, int *counter) {
    sqlite3_wal_hook(db, kitt_sqlite_wal_frames_hook, counter);
}

#endif
