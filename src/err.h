/*
 * err.h - the one error enum of s3sim, with its message table.
 *
 * Every function that can fail returns an int: 0 (ERR_OK) on success, one of
 * the negative codes below on failure.  err_str() turns a code into a short
 * sentence.  The table is an X-macro so that the enum and the messages can
 * never drift apart (the habit of raft's src/err.h).
 */
#ifndef S3SIM_ERR_H
#define S3SIM_ERR_H

#define ERR_TABLE(X)                                                           \
    X(ERR_OK, 0, "success")                                                    \
    X(ERR_NOMEM, -1, "out of memory")                                          \
    X(ERR_INVAL, -2, "invalid argument")                                       \
    X(ERR_NOTFOUND, -3, "not found")                                           \
    X(ERR_EXISTS, -4, "already exists")                                        \
    X(ERR_BADSTATE, -5, "operation not allowed in the current state")             \
    X(ERR_S3, -6, "the S3 call failed with an error status")                   \
    X(ERR_TIMEOUT, -7, "timed out")                                            \
    X(ERR_ABORTED, -8, "aborted")                                              \
    X(ERR_CANCELED, -9, "canceled")                                            \
    X(ERR_CORRUPT, -10, "corrupt or truncated data")                           \
    X(ERR_RANGE, -11, "value out of range")                                    \
    X(ERR_LIMIT, -12, "a size or count limit was exceeded")                    \
    X(ERR_CHECKSUM, -13, "checksum mismatch")                                  \
    X(ERR_IO, -14, "input/output or transport error")                          \
    X(ERR_PARSE, -15, "parse error")                                           \
    X(ERR_BUSY, -16, "resource busy, try again later")                         \
    X(ERR_UNSUPPORTED, -17, "operation not supported")                         \
    X(ERR_REDUNDANT, -18, "redundant operation (already done)")                \
    X(ERR_INTERNAL, -19, "internal error")

enum err_code {
#define ERR_ENUM_(name, value, msg) name = value,
    ERR_TABLE(ERR_ENUM_)
#undef ERR_ENUM_
};

/* Returns a static, human-readable message for rc (never NULL). */
const char *err_str(int rc);

/* Returns the symbolic name of rc, for example "ERR_TIMEOUT" (never NULL). */
const char *err_name(int rc);

#endif /* S3SIM_ERR_H */
