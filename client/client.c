/* Placeholder until the client library lands. */
#include "tamwil-client.h"
