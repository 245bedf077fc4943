/*
 * Reference firmware: one or two dice, each with an MPU-6050-class IMU on I2C
 * (0x68, and 0x69 with AD0 high), reporting over USB serial in protocol v1.
 * All logic lives in dice_core.c (host-tested); this file only does IO.
 * Board: any Arduino with USB serial (Uno, Nano, Pro Micro, Nano Every ...).
 */
#include <Wire.h>

extern "C" {
#include "dice_core.h"
}

#define FIRMWARE_ID "dice-imu-1.0"
#define DICE 1                  /* IMUs on this board: 1 or 2 */
#define BAUD 115200
#define SAMPLE_MS 10            /* 100 Hz */
#define HEARTBEAT_MS 500        /* the host wants one at least every second */
#define IMU_RETRY_MS 2000

static const uint8_t IMU_ADDR[2] = {0x68, 0x69};
static die_t dice[DICE];
static bool imu_ok[DICE];
static dice_cmd_reader_t cmd;
static uint32_t last_sample, last_hb, last_retry;
static char line[DICE_MAX_LINE + 8];

static void send_line(int n) {
    if (n > 0) Serial.write((const uint8_t *)line, (size_t)n);
}

static void send_die(int i) {
    send_line(dice_format_die(line, sizeof line, millis(), i + 1, dice[i].state, dice[i].face));
}

static void send_hello() { send_line(dice_format_hello(line, sizeof line, FIRMWARE_ID, DICE)); }

static bool imu_write(uint8_t addr, uint8_t reg, uint8_t value) {
    Wire.beginTransmission(addr);
    Wire.write(reg);
    Wire.write(value);
    return Wire.endTransmission() == 0;
}

static bool imu_begin(int i) {
    /* wake up (PWR_MGMT_1 = 0), accelerometer +-2 g, digital low-pass ~44 Hz */
    return imu_write(IMU_ADDR[i], 0x6B, 0x00) && imu_write(IMU_ADDR[i], 0x1C, 0x00) &&
           imu_write(IMU_ADDR[i], 0x1A, 0x03);
}

static bool imu_read(int i, float *ax, float *ay, float *az) {
    int16_t raw[3];
    Wire.beginTransmission(IMU_ADDR[i]);
    Wire.write(0x3B); /* ACCEL_XOUT_H */
    if (Wire.endTransmission(false) != 0) return false;
    if (Wire.requestFrom(IMU_ADDR[i], (uint8_t)6) != 6) return false;
    for (int k = 0; k < 3; k++) {
        uint8_t hi = Wire.read(), lo = Wire.read();
        raw[k] = (int16_t)((hi << 8) | lo);
    }
    *ax = raw[0] / 16384.0f; /* LSB per g at +-2 g */
    *ay = raw[1] / 16384.0f;
    *az = raw[2] / 16384.0f;
    return true;
}

static void check_imus() {
    for (int i = 0; i < DICE; i++) {
        if (imu_ok[i]) continue;
        imu_ok[i] = imu_begin(i);
        if (!imu_ok[i]) {
            char text[40];
            snprintf(text, sizeof text, "no IMU at 0x%02X for die %d", IMU_ADDR[i], i + 1);
            send_line(dice_format_err(line, sizeof line, "IMU", text));
        }
    }
}

void setup() {
    Serial.begin(BAUD);
    Wire.begin();
    Wire.setClock(400000);
#if defined(WIRE_HAS_TIMEOUT)
    Wire.setWireTimeout(3000, true); /* a yanked sensor cable must not hang the loop */
#endif
    for (int i = 0; i < DICE; i++) dice_die_init(&dice[i]);
    dice_cmd_init(&cmd);
    send_hello();
    check_imus();
    last_sample = last_hb = last_retry = millis();
}

void loop() {
    uint32_t now = millis();
    while (Serial.available() > 0) {
        dice_cmd_t c = dice_cmd_feed(&cmd, (char)Serial.read());
        if (c == DICE_CMD_HELLO) send_hello();
        if (c == DICE_CMD_STATE)
            for (int i = 0; i < DICE; i++) send_die(i);
    }
    if (dice_due(&last_sample, now, SAMPLE_MS)) {
        for (int i = 0; i < DICE; i++) {
            float ax, ay, az;
            if (!imu_ok[i]) continue;
            if (!imu_read(i, &ax, &ay, &az)) {
                imu_ok[i] = false; /* reported and retried below */
                continue;
            }
            if (dice_die_update(&dice[i], &DICE_DEFAULTS, now, ax, ay, az)) send_die(i);
        }
    }
    if (dice_due(&last_retry, now, IMU_RETRY_MS)) check_imus();
    if (dice_due(&last_hb, now, HEARTBEAT_MS))
        send_line(dice_format_hb(line, sizeof line, now));
}
