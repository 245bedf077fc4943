/* Portable core of the dice firmware. See dice_core.h. */
#include "dice_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const dice_config_t DICE_DEFAULTS = {
    20.0f,   /* tilt_deg */
    0.0004f, /* still_var: 0.02 g standard deviation */
    0.05f,   /* roll_var: 0.22 g standard deviation */
    300,     /* still_ms */
    600,     /* handling_ms: longer than the wobble at the end of a roll */
    0.1f,    /* alpha */
};

static const char *const STATE_NAMES[] = {"ROLLING", "HANDLING", "CROOKED", "LANDED"};

const char *dice_state_name(die_state_t s) {
    return (s >= DIE_ROLLING && s <= DIE_LANDED) ? STATE_NAMES[s] : "CROOKED";
}

void dice_die_init(die_t *d) {
    memset(d, 0, sizeof *d);
    d->state = DIE_CROOKED; /* unknown until the first still period */
}

int dice_face_from_gravity(float ax, float ay, float az, float tilt_deg) {
    float m = sqrtf(ax * ax + ay * ay + az * az);
    float fx = fabsf(ax), fy = fabsf(ay), fz = fabsf(az), top;
    int face;
    if (m < 0.5f) return 0; /* free fall or a broken sensor: no face */
    if (fz >= fx && fz >= fy) {
        top = fz;
        face = az > 0 ? 1 : 6;
    } else if (fx >= fy) {
        top = fx;
        face = ax > 0 ? 2 : 5;
    } else {
        top = fy;
        face = ay > 0 ? 3 : 4;
    }
    /* angle between gravity and the nearest face normal */
    if (top / m < cosf(tilt_deg * 3.14159265f / 180.0f)) return 0;
    return face;
}

static void track(die_t *d, const dice_config_t *c, uint32_t now, float m) {
    float diff;
    if (!d->started) {
        d->started = 1;
        d->mean = m;
        d->var = 0.0f;
        d->still = 1;
        d->still_since = now;
        return;
    }
    diff = m - d->mean;
    d->mean += c->alpha * diff;
    d->var = (1.0f - c->alpha) * (d->var + c->alpha * diff * diff);
}

int dice_die_update(die_t *d, const dice_config_t *c, uint32_t now_ms,
                    float ax, float ay, float az) {
    die_state_t state = d->state;
    int face = d->face;
    track(d, c, now_ms, sqrtf(ax * ax + ay * ay + az * az));
    if (d->var >= c->roll_var) {
        d->still = d->gentle = 0;
        state = DIE_ROLLING;
        face = 0;
    } else if (d->var >= c->still_var) {
        d->still = 0;
        if (!d->gentle) {
            d->gentle = 1;
            d->gentle_since = now_ms;
        }
        if ((uint32_t)(now_ms - d->gentle_since) >= c->handling_ms) {
            state = DIE_HANDLING;
            face = 0;
        }
    } else {
        d->gentle = 0;
        if (!d->still) {
            d->still = 1;
            d->still_since = now_ms;
        }
        if ((uint32_t)(now_ms - d->still_since) >= c->still_ms) {
            face = dice_face_from_gravity(ax, ay, az, c->tilt_deg);
            state = face ? DIE_LANDED : DIE_CROOKED;
        }
    }
    if (state == d->state && face == d->face) return 0;
    d->state = state;
    d->face = face;
    return 1;
}

uint8_t dice_checksum(const char *body, size_t n) {
    uint8_t x = 0;
    size_t i;
    for (i = 0; i < n; i++) x ^= (uint8_t)body[i];
    return x;
}

int dice_frame(char *out, size_t cap, const char *body) {
    static const char HEX[] = "0123456789ABCDEF";
    size_t n = strlen(body);
    uint8_t x;
    if (n + 4 > DICE_MAX_LINE || n + 6 > cap) return -1;
    x = dice_checksum(body, n);
    out[0] = '$';
    memcpy(out + 1, body, n);
    out[n + 1] = '*';
    out[n + 2] = HEX[x >> 4];
    out[n + 3] = HEX[x & 0x0F];
    out[n + 4] = '\n';
    out[n + 5] = '\0';
    return (int)(n + 5);
}

static int body_then_frame(char *out, size_t cap, const char *body, int len) {
    if (len < 0 || len >= DICE_MAX_LINE) return -1;
    return dice_frame(out, cap, body);
}

int dice_format_hello(char *out, size_t cap, const char *firmware, int dice) {
    char body[DICE_MAX_LINE];
    if (strchr(firmware, ',') || strchr(firmware, '*')) return -1;
    return body_then_frame(out, cap, body,
                           snprintf(body, sizeof body, "HELLO,%d,%s,%d",
                                    DICE_PROTOCOL_VERSION, firmware, dice));
}

int dice_format_die(char *out, size_t cap, uint32_t t_ms, int die, die_state_t s, int face) {
    char body[DICE_MAX_LINE];
    return body_then_frame(out, cap, body,
                           snprintf(body, sizeof body, "DIE,%lu,%d,%s,%d", (unsigned long)t_ms,
                                    die, dice_state_name(s), s == DIE_LANDED ? face : 0));
}

int dice_format_hb(char *out, size_t cap, uint32_t t_ms) {
    char body[DICE_MAX_LINE];
    return body_then_frame(out, cap, body,
                           snprintf(body, sizeof body, "HB,%lu", (unsigned long)t_ms));
}

int dice_format_err(char *out, size_t cap, const char *code, const char *text) {
    char body[DICE_MAX_LINE];
    if (strchr(code, ',') || strchr(code, '*') || strchr(text, '*')) return -1;
    return body_then_frame(out, cap, body, snprintf(body, sizeof body, "ERR,%s,%s", code, text));
}

int dice_due(uint32_t *last, uint32_t now_ms, uint32_t period_ms) {
    if ((uint32_t)(now_ms - *last) < period_ms) return 0;
    *last = now_ms;
    return 1;
}

void dice_cmd_init(dice_cmd_reader_t *r) { memset(r, 0, sizeof *r); }

dice_cmd_t dice_cmd_feed(dice_cmd_reader_t *r, char c) {
    dice_cmd_t cmd = DICE_CMD_NONE;
    if (c != '\n') {
        if (r->len < sizeof r->buf - 1) r->buf[r->len++] = c;
        else r->overflow = 1;
        return DICE_CMD_NONE;
    }
    if (r->len && r->buf[r->len - 1] == '\r') r->len--;
    r->buf[r->len] = '\0';
    if (r->overflow) cmd = DICE_CMD_UNKNOWN;
    else if (strcmp(r->buf, "?HELLO") == 0) cmd = DICE_CMD_HELLO;
    else if (strcmp(r->buf, "?STATE") == 0) cmd = DICE_CMD_STATE;
    else if (r->len) cmd = DICE_CMD_UNKNOWN;
    r->len = 0;
    r->overflow = 0;
    return cmd;
}
