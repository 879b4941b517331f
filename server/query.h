/*
 * Queries: reads for people and scripts, authorised by the channel's
 * principal alone (they change nothing, so they are not signed). A
 * coordinator sees its own region only. Large results come in pages that
 * always fit one frame.
 */
#ifndef TAMWIL_QUERY_H
#define TAMWIL_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "store.h"
#include "tamwil.pb-c.h"

/*
 * Answers, reading through st (a query thread's read-only connection, or
 * any connection of the caller's thread), a query request (get_application,
 * list_applications, list_programmes, list_regions, report, and of the audit
 * log checkpoint, inclusion and log_entries) into out. Returns 0 when an answer
 * (data or Error) was packed, -1 when none could be.
 */
int query_answer(server *srv, store *st, const store_principal *who,
		 const Tamwil__V1__Request *req, uint8_t *out, size_t out_cap,
		 size_t *out_len);

#endif
