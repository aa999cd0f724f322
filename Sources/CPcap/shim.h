// libpcap, as the Capture target sees it. Nothing but includes: all logic lives in Swift.
#include <pcap/pcap.h>
