// KittSQLite module.
