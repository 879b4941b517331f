/*
 * The schema as a list of migrations: entry i takes a database from
 * version i to version i+1. Released entries are never edited; a change
 * is a new entry at the end. Private to the store.
 */
#ifndef TAMWIL_STORE_SCHEMA_H
#define TAMWIL_STORE_SCHEMA_H

#define STORE_SCHEMA_VERSION 6

extern const char *const store_schema_migrations[STORE_SCHEMA_VERSION];

#endif
