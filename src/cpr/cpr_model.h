// Forwarding header: the CPR backend moved to cpr/model/model.h. Kept only until
// src/tools/cmd_calibrate.cpp includes the new path; then delete this file.
#pragma once
#include "cpr/model/model.h"
