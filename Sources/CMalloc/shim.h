// glibc's malloc tuning (mallopt), for the tools that hold large tables. Nothing but includes.
#include <malloc.h>
