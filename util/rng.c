/*
 * rng.c: VbRng, splitmix64 (Steele, Lea and Flood, 2014).
 *
 * One 64-bit word of state, advanced by a fixed odd constant on every draw
 * and mixed into the output, so that a seed fully determines the sequence:
 * the pool generator (pool/generate.c) and the property tests
 * (tests/placement-props.c) rely on that to replay a seed. Every function
 * here is one draw or less and cannot fail.
 *
 * Workload: a few draws per generated host and guest (about two million for
 * a 200,000-guest pool).
 */
#include "config.h"

#include "util/util.h"

guint64
vb_rng_next(VbRng *r)
{
    guint64 z = (r->state += G_GUINT64_CONSTANT(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

double
vb_rng_double(VbRng *r)
{
    /* 53 bits: every value is exactly representable, and 1.0 is never reached. */
    return (double) (vb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

guint
vb_rng_below(VbRng *r, guint n)
{
    return (guint) (vb_rng_double(r) * n);
}

gboolean
vb_rng_chance(VbRng *r, double p)
{
    return vb_rng_double(r) < p;
}
