/*
 * Schema migrations of the Tamwil database, oldest first. Each string runs
 * inside one transaction together with the user_version bump.
 */
#include "store_schema.h"

const char *const store_schema_migrations[STORE_SCHEMA_VERSION] = {
    /* 1: regions and the principals who may open a channel. */
    "CREATE TABLE regions ("
    "  id INTEGER PRIMARY KEY,"
    "  code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 16),"
    "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),"
    "  created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE principals ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),"
    "  role TEXT NOT NULL CHECK (role IN ('coordinator', 'approver',"
    "    'treasurer', 'auditor', 'admin')),"
    "  region_id INTEGER REFERENCES regions(id),"
    "  noise_pk BLOB NOT NULL UNIQUE CHECK (length(noise_pk) = 32),"
    "  sign_pk BLOB NOT NULL UNIQUE CHECK (length(sign_pk) = 32),"
    "  status TEXT NOT NULL DEFAULT 'active'"
    "    CHECK (status IN ('active', 'revoked')),"
    "  enrolled_by INTEGER REFERENCES principals(id),"
    "  enrolled_at INTEGER NOT NULL,"
    "  revoked_at INTEGER,"
    "  CHECK ((role = 'coordinator') = (region_id IS NOT NULL))"
    ") STRICT;",
};
