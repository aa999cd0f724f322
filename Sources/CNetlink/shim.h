// libnl-3 route (rtnetlink) API, for addrinspect. Headers are found through pkg-config (libnl-route-3.0).
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rtnl.h>
#include <netlink/route/rule.h>

// setns(2) for network namespaces. glibc declares setns only under _GNU_SOURCE, which Swift's Glibc module is
// not built with, so go through syscall(2); errno is set as setns would set it.
#include <sys/syscall.h>
#include <unistd.h>
static inline int vipscope_enter_network_namespace(int descriptor) {
    return (int)syscall(SYS_setns, descriptor, 0x40000000 /* CLONE_NEWNET */);
}
