#include "trace/trace-hw_mmiotrace.h"
