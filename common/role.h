/*
 * Roles: the protocol's Role values and the names people and the database
 * use for them ("coordinator", "approver", "treasurer", "auditor",
 * "admin"). One table, so both sides spell them the same way.
 */
#ifndef TAMWIL_ROLE_H
#define TAMWIL_ROLE_H

/* The name of a Role value, or NULL for an unknown or unset one. */
const char *role_name(int role);

/* The Role value of a name, or 0 (ROLE_UNSPECIFIED) for an unknown one. */
int role_from_name(const char *name);

#endif
