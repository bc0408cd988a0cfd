/* Preloaded into the profile-guided build's training run (mk/pgo.mk) so that two runs count the same
 * branches, and two clean clones build the same release files (docs/performance.md,
 * "Profile-guided optimization"). Without it, two runs' profiles differed:
 *   - getrandom seeds the standard library's hash maps (biscuit's fact sets, symbol tables), so
 *     probing and iteration order, and with them 32 functions' counts, changed from run to run;
 *   - the clock: biscuit and core time every authorization, and the branches of that arithmetic
 *     (a nanosecond carry, a deadline check) followed the real clock.
 * Here getrandom returns a fixed stream (splitmix64) and every clock starts at the training run's
 * own "now" (pgo_train.rs's NOW) and moves one microsecond a call. Never loaded outside training. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

static uint64_t random_state = 0x5452555354434f52ull; /* "TRUSTCOR" */

static uint64_t splitmix64(void) {
    uint64_t z = (random_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
    (void)flags;
    unsigned char *out = buf;
    for (size_t i = 0; i < len; i++) {
        out[i] = (unsigned char)splitmix64();
    }
    return (ssize_t)len;
}

/* pgo_train.rs's NOW: tokens minted by the training run expire an hour after it */
static const time_t TRAINING_NOW = 1800000000;
static uint64_t clock_calls;

int clock_gettime(clockid_t clock, struct timespec *ts) {
    (void)clock;
    uint64_t micros = clock_calls++;
    ts->tv_sec = TRAINING_NOW + (time_t)(micros / 1000000);
    ts->tv_nsec = (long)(micros % 1000000) * 1000;
    return 0;
}
