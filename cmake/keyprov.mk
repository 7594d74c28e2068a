# keyprov.mk: render the credential headers (aws_clientcredential.h,
# aws_clientcredential_keys.h) with `keyprov render` before anything is compiled. GNU make.
#
#   KEYPROV_BOARD   := lab-1                 # optional; needed when the config lists several boards
#   KEYPROV_OUT_DIR := build/generated       # optional; where the headers go
#   include node_modules/keyprov/cmake/keyprov.mk   # `npx keyprov cmake-module-path` prints this folder;
#                                                   # a $(shell ...) here would start node on every make run
#   # compile with $(CPPFLAGS) before your own -I flags (keyprov.mk puts the folder first in it),
#   # and with -MMD so that a new certificate recompiles only what includes the headers.
#
# How: the headers' dependency file ($(KEYPROV_DEPFILE), written by `keyprov render
# --depfile`) is included as a makefile. make brings included makefiles up to date before
# anything else, so the render runs first, and only when one of its inputs (config,
# certificate, CA, templates) is newer. keyprov rewrites a header only when its text
# changes, so objects recompile only when their credentials really changed.

# This file's rules must not become the default goal of the makefile that includes it.
_keyprov_default_goal := $(.DEFAULT_GOAL)

KEYPROV         ?= npx keyprov
KEYPROV_BOARD   ?=
KEYPROV_CONFIG  ?=
KEYPROV_OUT_DIR ?= build/keyprov-generated
# More `keyprov render` options, e.g. --ca-certificate ca.pem (JITR).
KEYPROV_RENDER_FLAGS ?=

# Absolute, so that the compiler's -MMD output names the headers exactly as make does.
override KEYPROV_OUT_DIR := $(abspath $(KEYPROV_OUT_DIR))
KEYPROV_DEPFILE  := $(KEYPROV_OUT_DIR)/keyprov.d
KEYPROV_HEADERS  := $(KEYPROV_OUT_DIR)/aws_clientcredential.h $(KEYPROV_OUT_DIR)/aws_clientcredential_keys.h
KEYPROV_CPPFLAGS := -I$(KEYPROV_OUT_DIR)
CPPFLAGS         := $(KEYPROV_CPPFLAGS) $(CPPFLAGS)

KEYPROV_RENDER_ARGS := render --quiet --out-dir $(KEYPROV_OUT_DIR) \
  $(if $(KEYPROV_CONFIG),--config $(abspath $(KEYPROV_CONFIG))) \
  $(if $(KEYPROV_BOARD),--board $(KEYPROV_BOARD)) $(KEYPROV_RENDER_FLAGS)

# The inputs come from the depfile itself (`keyprov.d: config certificate CA templates`).
$(KEYPROV_DEPFILE): $(if $(KEYPROV_CONFIG),$(abspath $(KEYPROV_CONFIG)))
	$(KEYPROV) $(KEYPROV_RENDER_ARGS) --depfile $@

.PHONY: keyprov-credentials
keyprov-credentials: $(KEYPROV_DEPFILE)

# `make clean` must work without a certificate.
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
include $(KEYPROV_DEPFILE)
endif

.DEFAULT_GOAL := $(_keyprov_default_goal)
