/*
 * reaper: the system calls Lifeboat needs and plain Node cannot make.
 *
 *   setChildSubreaper()  prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are
 *                        re-parented to this process instead of the namespace's PID 1.
 *   reap(pid)            waitpid(pid, WNOHANG) for one pid: {code, signal} once reaped,
 *                        null while it runs or when it is not our child.
 *   trimMemory()         glibc's malloc_trim(0): hands the allocator's free pages back to
 *                        the kernel (the replicator, after a burst of uploads); false
 *                        where there was nothing to give back or the C library has none.
 *   lockHolder(file)     fcntl(F_GETLK) for a write lock over SQLite's lock bytes of `file`:
 *                        the pid of a process holding any lock there (-1 when its pid is
 *                        not visible here), 0 when none holds one or the file does not exist (the init's check of the writer
 *                        lock, src/replicator/writer-lock.ts, without loading SQLite).
 *   exitNow(code)        _exit(code): ends the process at once. Node's own exit
 *                        (process.exit) joins V8's worker threads, and on Node 24 and 26
 *                        a background compile job parked waiting for a garbage collection
 *                        that the exiting main thread will never run deadlocks it
 *                        (nodejs/node#54918, #64274): the process never ends.
 *
 * Never waitpid(-1): libuv waits for the children that child_process spawned and must
 * keep getting their exit codes. The caller passes only pids that child_process does
 * not own and that /proc shows as zombies (src/supervisor/reaper.ts).
 */
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, const char *what) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) return throw_errno(env, "prctl PR_SET_CHILD_SUBREAPER");
  napi_value result;
  napi_get_boolean(env, true, &result);
  return result;
}

static napi_value set_int(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  napi_set_named_property(env, obj, key, v);
  return obj;
}

static napi_value reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t pid = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "reap: pid must be a positive integer");
    return NULL;
  }
  int status = 0;
  pid_t got;
  do {
    got = waitpid((pid_t)pid, &status, WNOHANG);
  } while (got < 0 && errno == EINTR);
  napi_value result;
  if (got <= 0) {
    /* 0: still running; -1 ECHILD: not our child (already reaped, or never ours). */
    napi_get_null(env, &result);
    return result;
  }
  napi_create_object(env, &result);
  set_int(env, result, "code", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  set_int(env, result, "signal", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return result;
}

static napi_value trim_memory(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value result;
  napi_get_boolean(env, released != 0, &result);
  return result;
}

/* SQLite's unix VFS locks PENDING_BYTE, RESERVED_BYTE and the 510 SHARED bytes after them. */
#define SQLITE_LOCK_START 0x40000000
#define SQLITE_LOCK_LEN 512

static napi_value lock_holder(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok || len == 0) {
    napi_throw_type_error(env, NULL, "lockHolder: file must be a non-empty string");
    return NULL;
  }
  char *file = malloc(len + 1);
  if (file == NULL) return throw_errno(env, "lockHolder");
  napi_get_value_string_utf8(env, argv[0], file, len + 1, &len);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  free(file);
  napi_value result;
  if (fd < 0) {
    if (errno != ENOENT) return throw_errno(env, "lockHolder: open");
    napi_create_int32(env, 0, &result);
    return result;
  }
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = SQLITE_LOCK_START;
  fl.l_len = SQLITE_LOCK_LEN;
  int rc = fcntl(fd, F_GETLK, &fl);
  int saved = errno;
  close(fd);
  if (rc != 0) {
    errno = saved;
    return throw_errno(env, "lockHolder: fcntl F_GETLK");
  }
  napi_create_int32(env, fl.l_type == F_UNLCK ? 0 : (fl.l_pid > 0 ? fl.l_pid : -1), &result);
  return result;
}

static napi_value exit_now(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t code = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &code) != napi_ok || code < 0 || code > 255) {
    napi_throw_type_error(env, NULL, "exitNow: code must be an integer from 0 to 255");
    return NULL;
  }
  _exit(code);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
    {"reap", NULL, reap, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trimMemory", NULL, trim_memory, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lockHolder", NULL, lock_holder, NULL, NULL, NULL, napi_enumerable, NULL},
    {"exitNow", NULL, exit_now, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
