/*
 * libcdp-preload.c: the LD_PRELOAD shim of cdp-tap: setup, the environment
 * it hands to every program exec'd below it, and the exec/spawn wrappers.
 *
 * cdp-tap passes, through the environment:
 *	CDP_TAP_FD=MEMFD,ALIVEFD   the ring and the tap's liveness pipe
 *	CDP_TAP_ROOT=DIR           the protected root, already canonical
 *	CDP_TAP_PRELOAD=PATH       this library, to re-inject into LD_PRELOAD
 * Programs that clear LD_PRELOAD or these variables get them back at
 * their next exec or spawn.  The shim never exits or aborts the program;
 * when anything is missing it stays out of the way.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload_shim.h"

extern char **environ;

static struct cdp_ring	*ring;
static int		 memfd = -1, alivefd = -1;
static char		 env_fd[64];		/* "CDP_TAP_FD=..." */
static char		*env_root;		/* "CDP_TAP_ROOT=..." */
static char		*env_lib;		/* "CDP_TAP_PRELOAD=..." */
static const char	*lib_path;
static __thread int	 in_shim;
static __thread uint32_t my_tid;

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_fexecve)(int, char *const[], char *const[]);
static int (*real_posix_spawn)(pid_t *, const char *,
    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
    char *const[], char *const[]);
static int (*real_posix_spawnp)(pid_t *, const char *,
    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
    char *const[], char *const[]);
static int (*real_system)(const char *);
static FILE *(*real_popen)(const char *, const char *);
static void (*real__exit)(int);

void *
shim_dlnext(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

int
shim_enter(void)
{
	if (ring == NULL || in_shim || cdp_ring_closed(ring))
		return 0;
	in_shim = 1;
	return 1;
}

void
shim_leave(void)
{
	in_shim = 0;
}

uint32_t
shim_tid(void)
{
	if (my_tid == 0)
		my_tid = (uint32_t)syscall(SYS_gettid);
	return my_tid;
}

int
shim_own_fd(int fd)
{
	return ring != NULL && (fd == memfd || fd == alivefd);
}

struct cdp_ring *
shim_ring(void)
{
	return ring;
}

void
shim_warn(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "cdp-tap: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!syscall(SYS_write, 2, buf, (size_t)n);
}

static void
atfork_child(void)
{
	my_tid = 0;
}

static char *
dupenv(const char *name)
{
	const char *v = getenv(name);
	size_t n = strlen(name), m;
	char *s;

	if (v == NULL)
		return NULL;
	m = strlen(v);
	if ((s = malloc(n + m + 2)) == NULL)
		return NULL;
	memcpy(s, name, n);
	s[n] = '=';
	memcpy(s + n + 1, v, m + 1);
	return s;
}

__attribute__((constructor)) static void
shim_init(void)
{
	const char *fds = getenv("CDP_TAP_FD"), *root = getenv("CDP_TAP_ROOT");
	char *end;
	long a, b;

	lib_path = getenv("CDP_TAP_PRELOAD");
	if (fds == NULL || root == NULL || lib_path == NULL)
		return;
	a = strtol(fds, &end, 10);
	if (*end != ',' || a < 0)
		return;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || b < 0)
		return;
	in_shim = 1;
	if ((ring = cdp_ring_attach((int)a, (int)b)) == NULL) {
		shim_warn("%s: cannot attach to the tap (%s); changes are "
		    "not journaled", program_invocation_short_name,
		    strerror(errno));
		in_shim = 0;
		return;
	}
	memfd = (int)a;
	alivefd = (int)b;
	snprintf(env_fd, sizeof(env_fd), "CDP_TAP_FD=%d,%d", memfd, alivefd);
	env_root = dupenv("CDP_TAP_ROOT");
	env_lib = dupenv("CDP_TAP_PRELOAD");
	pthread_atfork(NULL, NULL, atfork_child);
	fd_init(root);
	in_shim = 0;
}

__attribute__((destructor)) static void
shim_fini(void)
{
	if (ring == NULL)
		return;
	stdio_flush_all();
	mmap_flush_all();
	if (shim_enter()) {
		cdp_ring_kick(ring);
		shim_leave();
	}
}

HOOK void
_exit(int status)
{
	if (ring != NULL)
		mmap_flush_all();
	REAL(_exit);
	real__exit(status);
	for (;;)
		;
}

/*
 * Warn about a program the shim cannot follow into: statically linked
 * (no PT_INTERP) or one the kernel runs with other credentials (setuid,
 * setgid), where the loader ignores LD_PRELOAD.
 */
static void
check_exec(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	struct stat st;
	int fd, i, interp = 0;

	if (ring == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0 && (((st.st_mode & S_ISUID) &&
	    st.st_uid != geteuid()) || ((st.st_mode & S_ISGID) &&
	    st.st_gid != getegid())))
		shim_warn("%s: setuid or setgid program: its changes are not "
		    "journaled", path);
	else if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64) {
		for (i = 0; i < eh.e_phnum && i < 64; i++) {
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff +
			    (uint64_t)i * eh.e_phentsize)) != (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_INTERP)
				interp = 1;
		}
		if (!interp)
			shim_warn("%s: statically linked: its changes are not "
			    "journaled", path);
	}
	close(fd);
}

/* Find file in PATH for the check above (execvp does the real search). */
static void
check_execp(const char *file)
{
	const char *p = getenv("PATH"), *e;
	char buf[4096];

	if (strchr(file, '/') != NULL) {
		check_exec(file);
		return;
	}
	if (p == NULL)
		p = "/usr/local/bin:/usr/bin:/bin";
	for (; *p != '\0'; p = *e ? e + 1 : e) {
		size_t n;

		e = strchrnul(p, ':');
		n = (size_t)(e - p);
		if (n == 0 || n + strlen(file) + 2 > sizeof(buf))
			continue;
		memcpy(buf, p, n);
		buf[n] = '/';
		strcpy(buf + n + 1, file);
		if (access(buf, X_OK) == 0) {
			check_exec(buf);
			return;
		}
	}
}

static int
has_var(char *const *envp, const char *var)
{
	size_t n = strchr(var, '=') - var + 1;

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, var, n) == 0)
			return strcmp(*envp, var) == 0 ? 1 : -1;
	return 0;
}

/*
 * envp with the tap's variables put back and this library in LD_PRELOAD.
 * Built in memory from mmap(2), not malloc(3), so that it is safe in the
 * child of a vfork(2).  Returns envp itself when nothing is missing.
 */
static char **
fix_env(char *const *envp)
{
	const char *vars[3] = { env_fd, env_root, env_lib };
	const char *pre = NULL;
	size_t n = 0, i, j, size, libn;
	char **out, *s;

	if (ring == NULL || env_root == NULL || env_lib == NULL)
		return (char **)envp;
	libn = strlen(lib_path);
	for (i = 0; envp != NULL && envp[i] != NULL; i++) {
		if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0)
			pre = envp[i] + 11;
		n++;
	}
	if (pre != NULL && strstr(pre, lib_path) != NULL &&
	    has_var(envp, vars[0]) == 1 && has_var(envp, vars[1]) == 1 &&
	    has_var(envp, vars[2]) == 1)
		return (char **)envp;
	size = (n + 8) * sizeof(char *) + 11 + libn + 2 +
	    (pre ? strlen(pre) : 0);
	out = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED)
		return (char **)envp;
	s = (char *)(out + n + 8);
	memcpy(s, "LD_PRELOAD=", 11);
	memcpy(s + 11, lib_path, libn);
	if (pre != NULL && strstr(pre, lib_path) != NULL)
		strcpy(s + 11, pre);
	else if (pre != NULL && *pre != '\0') {
		s[11 + libn] = ':';
		strcpy(s + 12 + libn, pre);
	} else
		s[11 + libn] = '\0';
	j = 0;
	out[j++] = s;
	for (i = 0; i < 3; i++)
		out[j++] = (char *)vars[i];
	for (i = 0; i < n; i++) {
		if (strncmp(envp[i], "LD_PRELOAD=", 11) == 0 ||
		    strncmp(envp[i], "CDP_TAP_FD=", 11) == 0 ||
		    strncmp(envp[i], "CDP_TAP_ROOT=", 13) == 0 ||
		    strncmp(envp[i], "CDP_TAP_PRELOAD=", 16) == 0)
			continue;
		out[j++] = envp[i];
	}
	out[j] = NULL;
	return out;
}

/* Before the image is replaced: shared mappings are journaled now. */
static void
before_exec(void)
{
	int saved = errno;

	if (ring != NULL)
		mmap_flush_all();
	errno = saved;
}

HOOK int
execve(const char *path, char *const argv[], char *const envp[])
{
	REAL(execve);
	before_exec();
	check_exec(path);
	return real_execve(path, argv, fix_env(envp));
}

HOOK int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	REAL(execvpe);
	before_exec();
	check_execp(file);
	return real_execvpe(file, argv, fix_env(envp));
}

HOOK int
execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

HOOK int
execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

HOOK int
fexecve(int fd, char *const argv[], char *const envp[])
{
	REAL(fexecve);
	before_exec();
	return real_fexecve(fd, argv, fix_env(envp));
}

/* execl and friends: collect the arguments, as glibc does. */
#define MAX_ARGS	4096

static int
collect(const char *arg0, va_list ap, char **argv, char ***envp)
{
	int n = 0;

	argv[n++] = (char *)arg0;
	while (arg0 != NULL && n < MAX_ARGS - 1 &&
	    (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	argv[n] = NULL;
	if (envp != NULL)
		*envp = va_arg(ap, char **);
	return n;
}

HOOK int
execl(const char *path, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, arg);
	collect(arg, ap, argv, NULL);
	va_end(ap);
	return execve(path, argv, environ);
}

HOOK int
execlp(const char *file, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, arg);
	collect(arg, ap, argv, NULL);
	va_end(ap);
	return execvpe(file, argv, environ);
}

HOOK int
execle(const char *path, const char *arg, ...)
{
	char *argv[MAX_ARGS], **envp;
	va_list ap;

	va_start(ap, arg);
	collect(arg, ap, argv, &envp);
	va_end(ap);
	return execve(path, argv, envp);
}

static void
free_env(char **env, char *const *orig)
{
	size_t n = 0, size;

	if (env == (char **)orig)
		return;
	while (env[n] != NULL)
		n++;
	/* fix_env's size, recomputed: the strings follow the array. */
	size = (size_t)(strchr(env[0], '\0') - (char *)env) + 1;
	munmap(env, size);
}

HOOK int
posix_spawn(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	char **env;
	int rc;

	REAL(posix_spawn);
	check_exec(path);
	env = fix_env(envp);
	rc = real_posix_spawn(pid, path, fa, attr, argv, env);
	free_env(env, envp);
	return rc;
}

HOOK int
posix_spawnp(pid_t *pid, const char *file,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	char **env;
	int rc;

	REAL(posix_spawnp);
	check_execp(file);
	env = fix_env(envp);
	rc = real_posix_spawnp(pid, file, fa, attr, argv, env);
	free_env(env, envp);
	return rc;
}

/* system(3) and popen(3) spawn from environ inside libc: repair it. */
static void
fix_environ(void)
{
	char **env = fix_env(environ);
	size_t i;

	if (env == environ)
		return;
	for (i = 0; env[i] != NULL; i++)
		putenv(env[i]);
}

HOOK int
system(const char *cmd)
{
	REAL(system);
	fix_environ();
	return real_system(cmd);
}

HOOK FILE *
popen(const char *cmd, const char *type)
{
	REAL(popen);
	fix_environ();
	return real_popen(cmd, type);
}
