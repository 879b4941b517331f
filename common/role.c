/*
 * Roles. The table follows the protocol's enum, so a new role is one line
 * here and one in the schema.
 */
#include "role.h"

#include <string.h>

#include "tamwil.pb-c.h"

static const struct {
	int role;
	const char *name;
} role_table[] = {
    {TAMWIL__V1__ROLE__ROLE_COORDINATOR, "coordinator"},
    {TAMWIL__V1__ROLE__ROLE_APPROVER, "approver"},
    {TAMWIL__V1__ROLE__ROLE_TREASURER, "treasurer"},
    {TAMWIL__V1__ROLE__ROLE_AUDITOR, "auditor"},
    {TAMWIL__V1__ROLE__ROLE_ADMIN, "admin"},
};

#define ROLE_COUNT (sizeof(role_table) / sizeof(role_table[0]))

const char *role_name(int role)
{
	for (size_t i = 0; i < ROLE_COUNT; i++) {
		if (role_table[i].role == role)
			return role_table[i].name;
	}
	return NULL;
}

int role_from_name(const char *name)
{
	for (size_t i = 0; i < ROLE_COUNT; i++) {
		if (strcmp(role_table[i].name, name) == 0)
			return role_table[i].role;
	}
	return TAMWIL__V1__ROLE__ROLE_UNSPECIFIED;
}
