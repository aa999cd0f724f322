// libnl-3 route (rtnetlink) API, for addrinspect. Headers are found through pkg-config (libnl-route-3.0).
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
