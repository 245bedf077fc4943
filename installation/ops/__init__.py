"""Operations: logging, sd_notify, status file, doctor, service units."""
