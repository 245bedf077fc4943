/*
 * Portable core of the dice firmware: face from gravity, motion classification,
 * protocol v1 framing. No Arduino headers, so it is unit-tested on the host
 * with gcc (make -C hardware/firmware test). See hardware/PROTOCOL.md.
 */
#ifndef DICE_CORE_H
#define DICE_CORE_H

#include <stddef.h>
#include <stdint.h>

#define DICE_PROTOCOL_VERSION 1
#define DICE_MAX_LINE 120 /* bytes before the \n */

typedef enum {
    DIE_ROLLING = 0,
    DIE_HANDLING = 1,
    DIE_CROOKED = 2,
    DIE_LANDED = 3
} die_state_t;

typedef struct {
    float tilt_deg;       /* more than this off an axis at rest: CROOKED */
    float still_var;      /* |a| variance (g^2) below this: still */
    float roll_var;       /* |a| variance at or above this: ROLLING (tumbling, impacts) */
    uint32_t still_ms;    /* still this long: LANDED or CROOKED */
    uint32_t handling_ms; /* gentle motion this long: HANDLING (a hand, not a roll's tail) */
    float alpha;          /* smoothing of the running mean/variance, per sample */
} dice_config_t;

/* Defaults tuned for an MPU-6050 at +-2 g sampled at 100 Hz. */
extern const dice_config_t DICE_DEFAULTS;

typedef struct {
    die_state_t state;
    int face;              /* 1..6 when LANDED, else 0 */
    float mean;            /* running mean of |a| in g */
    float var;             /* running variance of |a| in g^2 */
    uint32_t still_since;  /* ms when the die became still */
    uint32_t gentle_since; /* ms when gentle motion began */
    int still;
    int gentle;
    int started;
} die_t;

void dice_die_init(die_t *d);

/* Feed one accelerometer sample (in g). Returns 1 when state or face changed. */
int dice_die_update(die_t *d, const dice_config_t *c, uint32_t now_ms,
                    float ax, float ay, float az);

/* Face pointing up from the gravity vector (1..6), or 0 when tilted beyond
 * tilt_deg or in free fall. +Z up shows 1, -Z 6, +X 2, -X 5, +Y 3, -Y 4
 * (opposite faces add up to 7). */
int dice_face_from_gravity(float ax, float ay, float az, float tilt_deg);

const char *dice_state_name(die_state_t s);

/* NMEA checksum: XOR of the bytes of body (between $ and *). */
uint8_t dice_checksum(const char *body, size_t n);

/* Frames below write "$BODY*HH\n" plus a NUL into out. They return the line
 * length (without the NUL), or -1 if it would not fit in cap or exceed
 * DICE_MAX_LINE. */
int dice_frame(char *out, size_t cap, const char *body);
int dice_format_hello(char *out, size_t cap, const char *firmware, int dice);
int dice_format_die(char *out, size_t cap, uint32_t t_ms, int die, die_state_t s, int face);
int dice_format_hb(char *out, size_t cap, uint32_t t_ms);
int dice_format_err(char *out, size_t cap, const char *code, const char *text);

/* Wrap-safe "has period_ms passed since *last?"; updates *last when it has. */
int dice_due(uint32_t *last, uint32_t now_ms, uint32_t period_ms);

/* Host commands, assembled byte by byte. */
typedef enum { DICE_CMD_NONE = 0, DICE_CMD_HELLO, DICE_CMD_STATE, DICE_CMD_UNKNOWN } dice_cmd_t;

typedef struct {
    char buf[16];
    size_t len;
    int overflow;
} dice_cmd_reader_t;

void dice_cmd_init(dice_cmd_reader_t *r);
/* Feed one received byte; returns a command when a line ends, else DICE_CMD_NONE. */
dice_cmd_t dice_cmd_feed(dice_cmd_reader_t *r, char c);

#endif
