#!/bin/sh
echo "hello from the feed"
