/* The one place the relay reads the operating system's clocks (see clock.h). */
#include "relay/io/clock.h"

#include <time.h>

static uint64_t read_us(clockid_t id)
{
    struct timespec ts;
    /* clock_gettime cannot fail for these two clocks on Linux (both always exist). */
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

ovl_time_t ovl_clock_now(void)
{
    return read_us(CLOCK_MONOTONIC);
}

uint64_t ovl_clock_wall(void)
{
    return read_us(CLOCK_REALTIME);
}

void ovl_clock_pair(ovl_clock_pair_t *out)
{
    out->mono = ovl_clock_now();
    out->wall = ovl_clock_wall();
}

uint64_t ovl_clock_ntp_from_unix(uint64_t unix_us)
{
    uint64_t sec = unix_us / 1000000u;
    uint64_t frac_us = unix_us % 1000000u;
    /* frac_us < 10^6 < 2^20, so the shift cannot overflow; the result is < 2^32. */
    uint64_t frac = (frac_us << 32) / 1000000u;
    uint32_t ntp_sec = (uint32_t)(sec + OVL_CLOCK_NTP_UNIX_OFFSET); /* era wrap: low 32 bits */
    return (uint64_t)ntp_sec << 32 | frac;
}

uint64_t ovl_clock_ntp_at(const ovl_clock_pair_t *anchor, ovl_time_t now)
{
    uint64_t wall = now >= anchor->mono ? anchor->wall + (now - anchor->mono) : anchor->wall - (anchor->mono - now);
    return ovl_clock_ntp_from_unix(wall);
}
