#include "gdlab/status.h"

static const char *const status_messages[] = {
#define GD_STATUS_MESSAGE(name, msg) msg,
    GD_STATUS_MAP(GD_STATUS_MESSAGE)
#undef GD_STATUS_MESSAGE
};

static const char *const status_names[] = {
#define GD_STATUS_NAME(name, msg) #name,
    GD_STATUS_MAP(GD_STATUS_NAME)
#undef GD_STATUS_NAME
};

const char *gd_strerror(int status)
{
    if (status < 0 || status >= GD_STATUS_COUNT)
        return "unknown status";
    return status_messages[status];
}

const char *gd_status_name(int status)
{
    if (status < 0 || status >= GD_STATUS_COUNT)
        return "EUNKNOWN";
    return status_names[status];
}
