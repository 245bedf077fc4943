/* Host unit tests for dice_core.c. With --frames, also prints sample frames
 * for the Python test that decodes them with installation.dice.protocol. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../dice_imu/dice_core.h"

static int failures = 0, checks = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        checks++;                                                          \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

static void test_checksum_matches_the_documented_examples(void) {
    char out[128];
    CHECK(dice_format_die(out, sizeof out, 1200, 1, DIE_LANDED, 3) == 24);
    CHECK(strcmp(out, "$DIE,1200,1,LANDED,3*4F\n") == 0);
    dice_format_die(out, sizeof out, 1200, 1, DIE_ROLLING, 0);
    CHECK(strcmp(out, "$DIE,1200,1,ROLLING,0*17\n") == 0);
    dice_format_hb(out, sizeof out, 5000);
    CHECK(strcmp(out, "$HB,5000*23\n") == 0);
    dice_format_hello(out, sizeof out, "dice-imu-1.0", 2);
    CHECK(strcmp(out, "$HELLO,1,dice-imu-1.0,2*38\n") == 0);
    dice_format_err(out, sizeof out, "IMU", "no MPU-6050 on I2C");
    CHECK(strcmp(out, "$ERR,IMU,no MPU-6050 on I2C*6A\n") == 0);
    dice_format_die(out, sizeof out, 4294967295UL, 1, DIE_ROLLING, 0);
    CHECK(strncmp(out, "$DIE,4294967295,1,ROLLING,0*", 28) == 0);
}

static void test_frames_refuse_to_overflow(void) {
    char out[128], small[8], body[200];
    memset(body, 'A', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    CHECK(dice_frame(out, sizeof out, body) == -1);
    body[116] = '\0'; /* $ + 116 + *HH = 120 bytes: the limit */
    CHECK(dice_frame(out, sizeof out, body) == 121);
    body[116] = 'A';
    body[117] = '\0';
    CHECK(dice_frame(out, sizeof out, body) == -1);
    CHECK(dice_format_hb(small, sizeof small, 5000) == -1);
    CHECK(dice_format_hello(out, sizeof out, "bad,id", 1) == -1);
}

static void test_face_from_gravity(void) {
    float t = DICE_DEFAULTS.tilt_deg;
    CHECK(dice_face_from_gravity(0, 0, 1, t) == 1);
    CHECK(dice_face_from_gravity(0, 0, -1, t) == 6);
    CHECK(dice_face_from_gravity(1, 0, 0, t) == 2);
    CHECK(dice_face_from_gravity(-1, 0, 0, t) == 5);
    CHECK(dice_face_from_gravity(0, 1, 0, t) == 3);
    CHECK(dice_face_from_gravity(0, -1, 0, t) == 4);
    /* 10 degrees off: still a face; 30 degrees (leaning on the wall): crooked */
    CHECK(dice_face_from_gravity(sinf(0.1745f), 0, cosf(0.1745f), t) == 1);
    CHECK(dice_face_from_gravity(sinf(0.5236f), 0, cosf(0.5236f), t) == 0);
    CHECK(dice_face_from_gravity(0.01f, 0.02f, 0.0f, t) == 0); /* free fall */
}

typedef struct { float x, y, z; } vec;

/* Feed `ms` of 100 Hz samples from gen; return the last state seen. */
static int run(die_t *d, uint32_t *now, uint32_t ms, vec (*gen)(uint32_t), int *changes) {
    uint32_t end = *now + ms;
    for (; *now < end; *now += 10) {
        vec v = gen(*now);
        *changes += dice_die_update(d, &DICE_DEFAULTS, *now, v.x, v.y, v.z);
    }
    return d->state;
}

static vec rest_on_3(uint32_t t) { (void)t; vec v = {0, 1, 0}; return v; }
static vec leaning(uint32_t t) { (void)t; vec v = {0.5f, 0, 0.866f}; return v; }
static vec tumbling(uint32_t t) { vec v = {(t / 10) % 2 ? 2.5f : -0.3f, 0.4f, 0.2f}; return v; }
static vec in_a_hand(uint32_t t) {
    vec v = {0, 0, 1.0f + 0.1f * sinf((float)t * 0.03f)};
    return v;
}

static void test_motion_states(void) {
    die_t d;
    uint32_t now = 0;
    int changes = 0;
    dice_die_init(&d);
    CHECK(run(&d, &now, 290, rest_on_3, &changes) == DIE_CROOKED); /* not still long enough */
    CHECK(run(&d, &now, 20, rest_on_3, &changes) == DIE_LANDED && d.face == 3);
    CHECK(changes == 1);
    CHECK(run(&d, &now, 300, tumbling, &changes) == DIE_ROLLING && d.face == 0);
    changes = 0;
    CHECK(run(&d, &now, 2000, rest_on_3, &changes) == DIE_LANDED && d.face == 3);
    CHECK(changes == 1); /* straight to LANDED: the wobble is shorter than handling_ms */
    CHECK(run(&d, &now, 300, tumbling, &changes) == DIE_ROLLING);
    CHECK(run(&d, &now, 2000, leaning, &changes) == DIE_CROOKED && d.face == 0);
    CHECK(run(&d, &now, 400, in_a_hand, &changes) != DIE_HANDLING); /* not yet */
    CHECK(run(&d, &now, 600, in_a_hand, &changes) == DIE_HANDLING);
}

static void test_due_survives_the_wrap(void) {
    uint32_t last = 4294967000UL;
    CHECK(!dice_due(&last, 4294967200UL, 500));
    CHECK(dice_due(&last, 204, 500)); /* 500 ms later across the wrap */
    CHECK(last == 204);
}

static void test_commands(void) {
    dice_cmd_reader_t r;
    const char *s;
    dice_cmd_t got = DICE_CMD_NONE;
    dice_cmd_init(&r);
    for (s = "?HELLO\r\n"; *s; s++) got = dice_cmd_feed(&r, *s);
    CHECK(got == DICE_CMD_HELLO);
    for (s = "?STATE\n"; *s; s++) got = dice_cmd_feed(&r, *s);
    CHECK(got == DICE_CMD_STATE);
    for (s = "?HELLOOOOOOOOOOOOOOOOOOOOO\n"; *s; s++) got = dice_cmd_feed(&r, *s);
    CHECK(got == DICE_CMD_UNKNOWN);
    CHECK(dice_cmd_feed(&r, '\n') == DICE_CMD_NONE);
    for (s = "?HELLO\n"; *s; s++) got = dice_cmd_feed(&r, *s);
    CHECK(got == DICE_CMD_HELLO); /* recovered after the overflow */
}

static void print_frames(void) {
    char out[128];
    int s, face;
    dice_format_hello(out, sizeof out, "dice-imu-1.0", 2);
    fputs(out, stdout);
    for (s = DIE_ROLLING; s <= DIE_LANDED; s++)
        for (face = 1; face <= 6; face++) {
            dice_format_die(out, sizeof out, 123456u * (uint32_t)face, 1 + face % 2, (die_state_t)s, face);
            fputs(out, stdout);
        }
    dice_format_hb(out, sizeof out, 4294967295UL);
    fputs(out, stdout);
    dice_format_err(out, sizeof out, "IMU", "no MPU-6050 at 0x68, retrying");
    fputs(out, stdout);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--frames") == 0) {
        print_frames();
        return 0;
    }
    test_checksum_matches_the_documented_examples();
    test_frames_refuse_to_overflow();
    test_face_from_gravity();
    test_motion_states();
    test_due_survives_the_wrap();
    test_commands();
    printf("dice_core: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
