#include "scalekit/taskqueue/arguments.h"

#include <gtest/gtest.h>

#include <string>

#include "scalekit/taskqueue/registry.h"

namespace celery = scalekit::taskqueue::celery;
using celery::parameter;

namespace {

const parameter add_params[] = {{"x"}, {"y"}};
const parameter row_params[] = {{"y"}, {"w"}, {"h"}, {"max_iteration", "1000"}};

// The TypeError message bind_arguments throws, or "" when it binds.
template <std::size_t N>
std::string bind_error(const char* fn, const parameter (&params)[N], const char* args, const char* kwargs = "{}") {
  try {
    celery::bind_arguments(fn, params, args, kwargs);
    return "";
  } catch (const celery::task_exception& e) {
    EXPECT_EQ(e.exc_type, "TypeError");
    EXPECT_EQ(e.exc_module, "builtins");
    return e.what();
  }
}

std::string add_error(const char* a, const char* b) {
  try {
    return "= " + celery::python_add(a, b);
  } catch (const celery::task_exception& e) {
    return e.exc_type + ": " + e.what();
  }
}

}  // namespace

TEST(Arguments, BindsPositionalKeywordAndDefaults) {
  auto v = celery::bind_arguments("add", add_params, "[4]", R"({"y": 5})");
  EXPECT_EQ(v, (std::vector<std::string_view>{"4", "5"}));
  v = celery::bind_arguments("add", add_params, "[]", R"({"y": 1, "x": 2})");
  EXPECT_EQ(v, (std::vector<std::string_view>{"2", "1"}));
  v = celery::bind_arguments("mandelbrot_calc_row", row_params, "[1, 2, 3]", "{}");
  EXPECT_EQ(v[3], "1000");
  v = celery::bind_arguments("mandelbrot_calc_row", row_params, "[1]", R"({"h": 3, "max_iteration": 7, "w": 2})");
  EXPECT_EQ(v, (std::vector<std::string_view>{"1", "2", "3", "7"}));
}

// The messages are CPython 3.11's, checked against it for these very calls.
TEST(Arguments, MistakesAreCPythonsTypeErrors) {
  EXPECT_EQ(bind_error("add", add_params, "[1, 2, 3]"), "add() takes 2 positional arguments but 3 were given");
  EXPECT_EQ(bind_error("f", row_params, "[1, 2, 3, 4, 5]"),
            "f() takes from 3 to 4 positional arguments but 5 were given");
  EXPECT_EQ(bind_error("add", add_params, "[1]"), "add() missing 1 required positional argument: 'y'");
  EXPECT_EQ(bind_error("add", add_params, "[]"), "add() missing 2 required positional arguments: 'x' and 'y'");
  EXPECT_EQ(bind_error("f", row_params, "[]"), "f() missing 3 required positional arguments: 'y', 'w', and 'h'");
  EXPECT_EQ(bind_error("add", add_params, "[1, 2]", R"({"z": 3})"), "add() got an unexpected keyword argument 'z'");
  EXPECT_EQ(bind_error("add", add_params, "[1]", R"({"x": 2})"), "add() got multiple values for argument 'x'");
  EXPECT_EQ(bind_error("add", add_params, "[1, 2, 3]", R"({"z": 1})"), "add() got an unexpected keyword argument 'z'");
  EXPECT_EQ(bind_error("f", row_params, "[]", R"({"w": 1})"),
            "f() missing 2 required positional arguments: 'y' and 'h'");
  const parameter one[] = {{"s"}};
  EXPECT_EQ(bind_error("one", one, "[1, 2]"), "one() takes 1 positional argument but 2 were given");
  EXPECT_EQ(bind_error("add", add_params, "[1, 2]"), "");
}

TEST(Arguments, AddIsPythonsPlus) {
  EXPECT_EQ(add_error("9223372036854775807", "1"), "= 9223372036854775808");
  EXPECT_EQ(add_error("-9223372036854775808", "-1"), "= -9223372036854775809");
  EXPECT_EQ(add_error("1267650600228229401496703205376", "1"), "= 1267650600228229401496703205377");
  EXPECT_EQ(add_error("2", "3"), "= 5");
  EXPECT_EQ(add_error("true", "true"), "= 2");
  EXPECT_EQ(add_error("1.5", "2"), "= 3.5");
  EXPECT_EQ(add_error("0.1", "0.2"), "= 0.30000000000000004");
  EXPECT_EQ(add_error("1e308", "1e308"), "= Infinity");
  EXPECT_EQ(add_error(R"("ab")", R"("c")"), R"(= "abc")");
  EXPECT_EQ(add_error("[1, 2]", "[[3]]"), "= [1, 2, [3]]");
  EXPECT_EQ(add_error("[0, 2, 4]", "100"), R"(TypeError: can only concatenate list (not "int") to list)");
  EXPECT_EQ(add_error(R"("a")", "1"), R"(TypeError: can only concatenate str (not "int") to str)");
  EXPECT_EQ(add_error("1", R"("a")"), "TypeError: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(add_error("null", "{}"), "TypeError: unsupported operand type(s) for +: 'NoneType' and 'dict'");
  EXPECT_EQ(add_error(("1" + std::string(400, '0')).c_str(), "0.5"),
            "OverflowError: int too large to convert to float");
}

TEST(Arguments, Int64OnlyWhenItFits) {
  EXPECT_EQ(celery::as_int64("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(celery::as_int64("9223372036854775808").has_value());
  EXPECT_FALSE(celery::as_int64("1.0").has_value());
  EXPECT_EQ(celery::python_type("1.0"), "float");
  EXPECT_EQ(celery::python_type("null"), "NoneType");
}
