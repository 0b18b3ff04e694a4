/* Status codes shared by every core function that can fail. */
#ifndef GDLAB_STATUS_H
#define GDLAB_STATUS_H

/* One table: name and message of each status, so code, enum and text never drift apart. */
#define GD_STATUS_MAP(X)                                                                           \
    X(OK, "ok")                                                                                    \
    X(EINVAL, "invalid argument")                                                                  \
    X(ENOMEM, "out of memory")                                                                     \
    X(ESPLIT, "train/validation split leaves a split empty")                                       \
    X(EDEGENERATE, "feature has zero variance in the training split")                              \
    X(ENONFINITE, "input contains a non-finite number")                                            \
    X(ECANCELED, "computation stopped by its deadline")

enum gd_status {
#define GD_STATUS_ENUM(name, msg) GD_##name,
    GD_STATUS_MAP(GD_STATUS_ENUM)
#undef GD_STATUS_ENUM
        GD_STATUS_COUNT
};

/* Human-readable text of a status code; never NULL, even for codes out of range. */
const char *gd_strerror(int status);

/* Symbolic name of a status code ("EINVAL"); never NULL. */
const char *gd_status_name(int status);

#endif
