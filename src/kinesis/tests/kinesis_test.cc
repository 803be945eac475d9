#include <gtest/gtest.h>
TEST(Kinesis, Placeholder) {}
