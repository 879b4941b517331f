/*
 * The daemon's life. A stop (SIGTERM, SIGINT) closes the listener first,
 * lets every connection get the answer to a request in flight and send
 * what it has queued, then leaves the loop; server_close() then lets the
 * workers and the writer finish what they hold, so no batch is ever
 * half-applied when the daemon ends.
 */
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netdb.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "notify.h"
#include "pool.h"
#include "state.h"

/* How long a stop waits for connections to drain before leaving anyway. */
#define SERVER_STOP_GRACE_MS 3000

static void server_on_accept(struct evconnlistener *lst, evutil_socket_t fd,
			     struct sockaddr *peer, int peer_len, void *arg)
{
	(void)lst;
	conn_accept(arg, fd, peer, (socklen_t)peer_len);
}

static void server_on_accept_error(struct evconnlistener *lst, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	(void)lst;
	(void)arg;
	/* Out of descriptors or memory: the listener retries on its own. */
	log_warn("accept: %s", evutil_socket_error_to_string(e));
}

void server_conn_gone(server *srv)
{
	if (srv->stopping && srv->nconns == 0)
		event_base_loopexit(srv->base, NULL);
}

static void server_on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	server *srv = arg;

	(void)fd;
	(void)what;
	log_warn("stop: %d connections still busy, closing them", srv->nconns);
	event_base_loopexit(srv->base, NULL);
}

/* Warns that a setting read again needs a restart to take effect. */
static void server_needs_restart(const char *name, int changed)
{
	if (changed)
		log_warn("reload: %s changed: it takes effect when tamwild "
			 "restarts",
			 name);
}

/* Notes in the lock file the at-rest key versions held; 0 or -1. */
static int server_note_versions(server *srv)
{
	if (srv->lock_fd < 0 ||
	    state_note_versions(srv->lock_fd, (long)getpid(),
				seal_ring_count(&srv->seal)) == 0)
		return 0;
	log_error("cannot note the at-rest key versions in the lock file: %s",
		  strerror(errno));
	return -1;
}

int server_hold_lock(server *srv, int fd)
{
	srv->lock_fd = fd;
	return server_note_versions(srv);
}

/*
 * Reads rest.keys again and adds the at-rest key versions it lacks, then
 * notes them in the lock file: tamwild rekey waits for that note before
 * it seals anything under a new version. A file that does not read
 * leaves the versions as they were.
 */
static void server_reload_keys(server *srv)
{
	char err[STATE_ERR_MAX];
	unsigned before = seal_ring_count(&srv->seal);

	if (state_load_rest(srv->cfg.state_dir, srv->data.sk, &srv->seal, err,
			    sizeof(err)) != 0) {
		log_error("reload: %s; the at-rest keys stay as they were",
			  err);
		return;
	}
	if (seal_ring_count(&srv->seal) != before)
		log_info("reload: at-rest key versions 0 to %u held",
			 seal_ring_count(&srv->seal) - 1);
	(void)server_note_versions(srv);
}

/*
 * Part of a reload: closes the channels of every principal the database
 * now says is revoked. A revocation over a channel closes them at once;
 * one made by another process (tamwild revoke, which then sends SIGUSR1)
 * is seen only here. A failure is logged and changes nothing.
 */
static void server_reload_principals(server *srv)
{
	store *rd = NULL;
	int closed;

	if (server_open_reader(srv, &rd) != 0)
		return;
	closed = conn_close_revoked(srv, rd);
	store_close(rd);
	if (closed < 0)
		log_error("reload: the channels of revoked keys were not "
			  "checked");
	else
		log_info("reload: principals read again, %d channel%s of "
			 "revoked keys closed",
			 closed, closed == 1 ? "" : "s");
}

/*
 * SIGUSR1, sent by tamwild revoke and tamwild rekey: reads the at-rest
 * keys again (server_reload_keys) and closes the channels of keys revoked
 * meanwhile (server_reload_principals). The settings are left alone, so
 * that a pending edit of the configuration waits for the administrator's
 * own SIGHUP.
 */
static void server_on_keys(evutil_socket_t sig, short what, void *arg)
{
	server *srv = arg;

	(void)sig;
	(void)what;
	if (srv->stopping)
		return;
	server_reload_keys(srv);
	server_reload_principals(srv);
}

/*
 * SIGHUP: what SIGUSR1 does, then reads the settings again and applies
 * those the loop alone uses (deadlines, limits, the log level); the state
 * folder, the address and the number of workers wait for a restart. A
 * file that does not read leaves every setting as it was.
 */
static void server_on_reload(evutil_socket_t sig, short what, void *arg)
{
	char err[CONFIG_ERR_MAX + 64];
	server *srv = arg;
	config cfg;

	server_on_keys(sig, what, arg);
	if (srv->stopping || srv->reload == NULL)
		return;
	(void)notify_env("RELOADING=1");
	if (srv->reload(&cfg, err, sizeof(err), srv->reload_arg) != 0) {
		log_error("reload: %s; the settings stay as they were", err);
		(void)notify_env("READY=1");
		return;
	}
	server_needs_restart("state",
			     strcmp(cfg.state_dir, srv->cfg.state_dir) != 0);
	server_needs_restart("listen", strcmp(cfg.listen, srv->cfg.listen));
	server_needs_restart("workers", cfg.workers != srv->cfg.workers);
	srv->cfg.handshake_timeout_ms = cfg.handshake_timeout_ms;
	srv->cfg.idle_timeout_s = cfg.idle_timeout_s;
	srv->cfg.max_connections = cfg.max_connections;
	srv->cfg.max_frame = cfg.max_frame;
	srv->cfg.max_output = cfg.max_output;
	srv->cfg.max_per_source = cfg.max_per_source;
	srv->cfg.handshake_rate = cfg.handshake_rate;
	srv->cfg.handshake_burst = cfg.handshake_burst;
	srv->cfg.log_level = cfg.log_level;
	limit_set(&srv->limits, cfg.max_per_source, cfg.handshake_rate,
		  cfg.handshake_burst);
	log_set_level(cfg.log_level);
	log_info("reload: settings read again (max %d connections, %d per "
		 "source, log level %s)",
		 cfg.max_connections, cfg.max_per_source,
		 log_level_name(cfg.log_level));
	(void)notify_env("READY=1");
}

static void server_on_signal(evutil_socket_t sig, short what, void *arg)
{
	server *srv = arg;
	struct timeval grace = {SERVER_STOP_GRACE_MS / 1000, 0};
	(void)what;
	if (srv->stopping)
		return;
	srv->stopping = 1;
	if (notify_env("STOPPING=1") < 0)
		log_warn("cannot tell the service manager: %s",
			 strerror(errno));
	log_info("stopping on %s: %d connections to close",
		 sig == SIGTERM ? "SIGTERM" : "SIGINT", srv->nconns);
	evconnlistener_disable(srv->listener);
	conn_stop_all(srv, 0);
	if (srv->nconns == 0) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	evtimer_add(srv->stop_timer, &grace);
}

/* Resolves cfg.listen and binds the listener; logs the real address. */
static int server_listen(server *srv)
{
	struct addrinfo hints = {0}, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[256], port_text[8], bound[NI_MAXHOST], bport[NI_MAXSERV];
	int port, rc;

	if (config_split_hostport(srv->cfg.listen, host, sizeof(host), &port,
				  7405) != 0) {
		log_error("listen: bad address %s", srv->cfg.listen);
		return -1;
	}
	snprintf(port_text, sizeof(port_text), "%d", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, port_text, &hints, &res);
	if (rc != 0) {
		log_error("listen: cannot resolve %s: %s", host,
			  gai_strerror(rc));
		return -1;
	}
	srv->listener = evconnlistener_new_bind(
	    srv->base, server_on_accept, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    1024, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (srv->listener == NULL) {
		log_error("cannot listen on %s: %s", srv->cfg.listen,
			  strerror(errno));
		return -1;
	}
	evconnlistener_set_error_cb(srv->listener, server_on_accept_error);
	if (getsockname(evconnlistener_get_fd(srv->listener),
			(struct sockaddr *)&ss, &len) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, bound, sizeof(bound),
			bport, sizeof(bport),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return -1;
	log_info("listening on %s%s%s:%s", ss.ss_family == AF_INET6 ? "[" : "",
		 bound, ss.ss_family == AF_INET6 ? "]" : "", bport);
	return 0;
}

/* The database's path into path (capacity cap): 0 or -1. */
static int server_db_path(const server *srv, char *path, size_t cap)
{
	if (state_path(path, cap, srv->cfg.state_dir, STATE_DB) != 0) {
		log_error("state folder path too long");
		return -1;
	}
	return 0;
}

int server_open_reader(server *srv, store **rd)
{
	char path[4096], err[STATE_ERR_MAX];

	*rd = NULL;
	if (server_db_path(srv, path, sizeof(path)) != 0)
		return -1;
	if (store_open_reader(path, rd, err, sizeof(err)) != 0) {
		log_error("cannot read the principals: %s", err);
		return -1;
	}
	return 0;
}

/* Opens the database of the state folder; 0 or -1. */
static int server_open_store(server *srv)
{
	char path[4096], err[STATE_ERR_MAX];

	if (server_db_path(srv, path, sizeof(path)) != 0)
		return -1;
	if (store_open(path, 0, &srv->st, err, sizeof(err)) != 0) {
		if (access(path, F_OK) == 0)
			log_error("%s", err);
		else
			log_error("%s (is %s initialised? run: tamwild init "
				  "--state %s --admin PUBFILE --admin-name "
				  "NAME)",
				  err, srv->cfg.state_dir, srv->cfg.state_dir);
		return -1;
	}
	return 0;
}

/*
 * Refuses a database with identities sealed under an at-rest key version
 * the state folder's keys do not give (a database restored without the
 * rest.keys it needs, or after its version was retired). 0 or -1.
 */
static int server_check_versions(server *srv)
{
	uint64_t counts[SEAL_VERSIONS_MAX];
	long max;

	if (store_key_versions(srv->st, counts, SEAL_VERSIONS_MAX, &max) != 0) {
		log_error("%s", store_errmsg(srv->st));
		return -1;
	}
	for (long v = 0; v <= max; v++) {
		if (v < SEAL_VERSIONS_MAX && counts[v] == 0)
			continue;
		if (seal_ring_get(&srv->seal, (unsigned)v) != NULL)
			continue;
		log_error("the database holds identities sealed under at-rest "
			  "key version %ld, which %s/%s does not hold",
			  v, srv->cfg.state_dir, STATE_REST_KEYS);
		return -1;
	}
	return 0;
}

int server_load(server *srv, const config *cfg)
{
	char err[STATE_ERR_MAX];

	memset(srv, 0, sizeof(*srv));
	srv->lock_fd = -1;
	srv->cfg = *cfg;
	LIST_INIT(&srv->conns);
	/* The keys stay out of swap; a tight RLIMIT_MEMLOCK only warns. */
	if (sodium_mlock(&srv->key, sizeof(srv->key)) != 0 ||
	    sodium_mlock(&srv->data, sizeof(srv->data)) != 0 ||
	    sodium_mlock(&srv->seal, sizeof(srv->seal)) != 0)
		log_warn("cannot lock the keys in memory: they may reach swap "
			 "(raise RLIMIT_MEMLOCK)");
	limit_init(&srv->limits, cfg->max_per_source, cfg->handshake_rate,
		   cfg->handshake_burst);
	if (state_load_keys(cfg->state_dir, &srv->key, &srv->pub, &srv->data,
			    err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (state_load_rest(cfg->state_dir, srv->data.sk, &srv->seal, err,
			    sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (server_open_store(srv) != 0)
		return -1;
	return server_check_versions(srv);
}

/* The workers, with their read connections, and the writer. */
static int server_start_threads(server *srv)
{
	char path[4096];

	if (server_db_path(srv, path, sizeof(path)) != 0)
		return -1;
	return pool_start(srv, path, conn_job_done);
}

int server_open(server *srv, const config *cfg)
{
	if (server_load(srv, cfg) != 0)
		return -1;
	/* Workers wake the loop with event_active(): libevent must lock. */
	if (evthread_use_pthreads() != 0) {
		log_error("libevent cannot use threads");
		return -1;
	}
	srv->base = event_base_new();
	if (srv->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	srv->sig_term = evsignal_new(srv->base, SIGTERM, server_on_signal, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, server_on_signal, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, server_on_reload, srv);
	srv->sig_usr1 = evsignal_new(srv->base, SIGUSR1, server_on_keys, srv);
	srv->stop_timer = evtimer_new(srv->base, server_on_stop_timer, srv);
	if (srv->sig_term == NULL || srv->sig_int == NULL ||
	    srv->sig_hup == NULL || srv->sig_usr1 == NULL ||
	    srv->stop_timer == NULL || evsignal_add(srv->sig_term, NULL) != 0 ||
	    evsignal_add(srv->sig_int, NULL) != 0 ||
	    evsignal_add(srv->sig_hup, NULL) != 0 ||
	    evsignal_add(srv->sig_usr1, NULL) != 0) {
		log_error("cannot install signal handlers");
		return -1;
	}
	if (server_start_threads(srv) != 0)
		return -1;
	return server_listen(srv);
}

int server_run(server *srv)
{
	signal(SIGPIPE, SIG_IGN);
	/* Listening already: clients may connect from now on. */
	if (notify_env("READY=1") < 0)
		log_warn("cannot tell the service manager: %s",
			 strerror(errno));
	if (event_base_dispatch(srv->base) < 0) {
		log_error("event loop failed");
		return -1;
	}
	return 0;
}

void server_close(server *srv)
{
	/* Answers still coming back find their connections stopping. */
	srv->stopping = 1;
	pool_stop(srv);
	conn_stop_all(srv, 1);
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	if (srv->sig_term != NULL)
		event_free(srv->sig_term);
	if (srv->sig_int != NULL)
		event_free(srv->sig_int);
	if (srv->sig_hup != NULL)
		event_free(srv->sig_hup);
	if (srv->sig_usr1 != NULL)
		event_free(srv->sig_usr1);
	if (srv->stop_timer != NULL)
		event_free(srv->stop_timer);
	if (srv->base != NULL)
		event_base_free(srv->base);
	store_close(srv->st);
	/* Wiped, then unlocked. */
	sodium_munlock(&srv->key, sizeof(srv->key));
	sodium_munlock(&srv->data, sizeof(srv->data));
	sodium_munlock(&srv->seal, sizeof(srv->seal));
	srv->st = NULL;
	srv->base = NULL;
}
