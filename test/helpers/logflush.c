// Preloaded into llama.cpp tools by the tests and the benchmarks (test/helpers/logFlush.ts).
// llama.cpp's common logger queues every line for a background thread and its singleton is never
// destroyed, so when main() returns the lines the thread has not written yet (the final figures)
// are lost. At exit this waits until every live std::thread (the logger is one; OpenMP's workers
// are not) is back in a condition-variable wait entered after the last signal, i.e. the logger's
// queue is drained and written.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 256
/** One std::thread: used (registered at creation, freed when it returns), waiting, when it entered its wait. */
static struct { atomic_int used; atomic_int waiting; atomic_long entered; } slots[SLOTS];
static atomic_long seq;
static atomic_long last_signal;
static __thread int my_slot = -1;

static int (*real_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static int (*real_signal)(pthread_cond_t *);
static int (*real_broadcast)(pthread_cond_t *);

static void resolve(void) {
  if (real_wait) return;
  real_signal = dlvsym(RTLD_NEXT, "pthread_cond_signal", "GLIBC_2.3.2");
  real_broadcast = dlvsym(RTLD_NEXT, "pthread_cond_broadcast", "GLIBC_2.3.2");
  real_wait = dlvsym(RTLD_NEXT, "pthread_cond_wait", "GLIBC_2.3.2");
  if (!real_wait) real_wait = dlsym(RTLD_NEXT, "pthread_cond_wait");
  if (!real_signal) real_signal = dlsym(RTLD_NEXT, "pthread_cond_signal");
  if (!real_broadcast) real_broadcast = dlsym(RTLD_NEXT, "pthread_cond_broadcast");
  real_create = dlsym(RTLD_NEXT, "pthread_create");
}

static int take_slot(void) {
  for (int i = 0; i < SLOTS; i++) {
    int zero = 0;
    if (atomic_compare_exchange_strong(&slots[i].used, &zero, 1)) {
      atomic_store(&slots[i].waiting, 0);
      atomic_store(&slots[i].entered, 0);
      return i;
    }
  }
  return -1;
}

struct start { void *(*fn)(void *); void *arg; int slot; };

static void *trampoline(void *p) {
  struct start st = *(struct start *)p;
  free(p);
  my_slot = st.slot;
  void *r = st.fn(st.arg);
  if (st.slot >= 0) atomic_store(&slots[st.slot].used, 0);
  return r;
}

/** Registers threads started by std::thread (their start routine lives in libstdc++) at creation, before they run. */
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  resolve();
  Dl_info info;
  if (!dladdr((void *)fn, &info) || !info.dli_fname || !strstr(info.dli_fname, "libstdc++")) return real_create(t, attr, fn, arg);
  struct start *st = malloc(sizeof *st);
  if (!st) return real_create(t, attr, fn, arg);
  st->fn = fn;
  st->arg = arg;
  st->slot = take_slot();
  int r = real_create(t, attr, trampoline, st);
  if (r != 0) {
    if (st->slot >= 0) atomic_store(&slots[st->slot].used, 0);
    free(st);
  }
  return r;
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  resolve();
  int s = my_slot;
  if (s >= 0) {
    atomic_store(&slots[s].entered, atomic_fetch_add(&seq, 1) + 1);
    atomic_store(&slots[s].waiting, 1);
  }
  int r = real_wait(c, m);
  if (s >= 0) atomic_store(&slots[s].waiting, 0);
  return r;
}

int pthread_cond_signal(pthread_cond_t *c) {
  resolve();
  atomic_store(&last_signal, atomic_fetch_add(&seq, 1) + 1);
  return real_signal(c);
}

int pthread_cond_broadcast(pthread_cond_t *c) {
  resolve();
  atomic_store(&last_signal, atomic_fetch_add(&seq, 1) + 1);
  return real_broadcast(c);
}

static int drained(void) {
  long sig = atomic_load(&last_signal);
  for (int i = 0; i < SLOTS; i++) {
    if (!atomic_load(&slots[i].used) || i == my_slot) continue;
    if (!atomic_load(&slots[i].waiting) || atomic_load(&slots[i].entered) < sig) return 0;
  }
  return 1;
}

static void wait_drained(void) {
  struct timespec ms = {0, 1000000};
  // Two consecutive drained checks 1 ms apart; give up after 60 s (a hung tool stays hung).
  for (int i = 0, ok = 0; i < 60000 && ok < 2; i++) {
    ok = drained() ? ok + 1 : 0;
    if (ok < 2) nanosleep(&ms, NULL);
  }
}

__attribute__((constructor)) static void init(void) {
  resolve();
  // Registered first, so it runs last at exit, after the tool's own atexit handlers.
  atexit(wait_drained);
}
