// ProfileGroup (core/profile_reader.h): typed values with ranges, enum lists,
// the path rule, unknown keys, and the uniform error text with file and line.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/profile.h"
#include "core/profile_reader.h"
#include "test_support.h"

using namespace advad;
using advad::test::expect_error;
using advad::test::TempDir;
namespace fs = std::filesystem;

namespace {

const char* kIni =
    "[profile]\nmethod = torchscript\nmodel = m.pt\n\n[train]\n"
    "steps = 12\nlr =  0.5 \nflag = on\nmode = Fast\nname = jelly\nweights = w/d.pth\n"
    "abs = /x/y/../z.pth\nempty =\n";

ProfileGroup train_group(const TempDir& d, ProfileGroup::Values overrides = {}) {
  const std::string ini = d.write("cat.ini", kIni);
  return ProfileGroup::of(load_profile(ini, false), "train", std::move(overrides));
}

}  // namespace

TEST(ProfileReader, TypedValuesDefaultsAndTrim) {
  TempDir d("reader");
  const ProfileGroup g = train_group(d);
  EXPECT_EQ(g.integer("steps", 1, 1, 100), 12);
  EXPECT_EQ(g.integer("absent", 7, 1, 100), 7);
  EXPECT_EQ(g.integer_long("steps", 1, 1, 100), 12L);
  EXPECT_DOUBLE_EQ(g.number("lr", 0.1, 0.0, 1.0), 0.5);  // "  0.5 " trimmed
  EXPECT_TRUE(g.boolean("flag", false));
  EXPECT_FALSE(g.boolean("absent", false));
  EXPECT_EQ(g.string("name"), "jelly");
  EXPECT_EQ(g.string("absent", "x"), "x");
  enum class Mode { Fast, Slow };
  const std::vector<std::pair<std::string, Mode>> modes = {{"fast", Mode::Fast}, {"slow", Mode::Slow}};
  EXPECT_EQ(g.choice("mode", Mode::Slow, modes), Mode::Fast);  // case-insensitive
  EXPECT_EQ(g.choice("absent", Mode::Slow, modes), Mode::Slow);
  EXPECT_EQ(g.require("name", "give a name"), "jelly");
  EXPECT_TRUE(g.has("empty"));
  EXPECT_EQ(g.group(), "train");
}

TEST(ProfileReader, BadValuesNameFileLineGroupKeyAndAccepted) {
  TempDir d("reader_bad");
  const ProfileGroup g = train_group(d);
  const std::string ini = d.file("cat.ini");
  // steps is on line 6, lr on 7, flag on 8, mode on 9.
  expect_error<ProfileError>([&] { g.integer("steps", 1, 20, 30); },
                             {ini + ":6: [train] steps: value 12 out of range; accepted: integer 20..30"});
  expect_error<ProfileError>([&] { g.integer("lr", 1, 0, 9); }, {ini + ":7: [train] lr: '0.5' is not an integer"});
  expect_error<ProfileError>([&] { g.integer_long("steps", 1, 13, std::numeric_limits<long>::max()); },
                             {"integer >= 13"});
  expect_error<ProfileError>([&] { g.number("lr", 0, 0.0, 0.5, Bound::HighOpen); },
                             {ini + ":7: [train] lr: value 0.5 out of range; accepted: 0 <= value < 0.5"});
  expect_error<ProfileError>([&] { g.number("lr", 0, 0.5, 1.0, Bound::LowOpen); }, {"0.5 < value <= 1"});
  expect_error<ProfileError>([&] { g.number("name", 0, 0.0, 1.0); }, {"[train] name: 'jelly' is not a number"});
  expect_error<ProfileError>([&] { g.number("lr", 0, 1.0, std::numeric_limits<double>::infinity()); },
                             {"accepted: value >= 1"});
  expect_error<ProfileError>([&] { g.boolean("name", false); }, {"[train] name: bad value 'jelly'; accepted: true | false"});
  expect_error<ProfileError>(
      [&] { g.choice<int>("mode", 0, {{"a", 1}, {"b", 2}}); },
      {ini + ":9: [train] mode: bad value 'Fast'; accepted: a | b"});
  expect_error<ProfileError>([&] { g.require("empty", "give it"); }, {"[train] empty: missing; give it"});
  expect_error<ProfileError>([&] { g.require("absent", "give it"); }, {ini + ": [train] absent: missing; give it"});
  // A ProfileError thrown by a custom parser gets the same context.
  expect_error<ProfileError>([&] { g.with("steps", [](const std::string&) { throw ProfileError("odd only"); }); },
                             {ini + ":6: [train] steps: odd only"});
}

TEST(ProfileReader, UnknownKeysListTheAcceptedOnes) {
  TempDir d("reader_keys");
  const ProfileGroup g = train_group(d);
  expect_error<ProfileError>([&] { g.only_keys({"steps", "lr", "flag", "mode", "name", "weights", "empty"}); },
                             {":12: [train] abs: unknown key; accepted keys in [train]: steps, lr, flag"});
  EXPECT_NO_THROW(g.only_keys({"steps", "lr", "flag", "mode", "name", "weights", "empty", "abs"}));
  // A command-line key is checked too, and named as the flag.
  const ProfileGroup o = train_group(d, {{"lerning_rate", "1"}});
  expect_error<ProfileError>([&] { o.only_keys({"steps", "lr", "flag", "mode", "name", "weights", "empty", "abs"}); },
                             {"command line --lerning-rate ([train] lerning_rate): unknown key"});
}

TEST(ProfileReader, CommandLineValuesWinAndAreNamedAsFlags) {
  TempDir d("reader_cli");
  const ProfileGroup g = train_group(d, {{"steps", " 40 "}, {"lr", "big"}});
  EXPECT_TRUE(g.from_command_line("steps"));
  EXPECT_FALSE(g.from_command_line("name"));
  EXPECT_EQ(g.integer("steps", 1, 1, 100), 40);
  expect_error<ProfileError>([&] { g.number("lr", 0, 0.0, 1.0); },
                             {"command line --lr ([train] lr): 'big' is not a number; accepted: 0 <= value <= 1"});
}

// The path rule: profile values relative to the profile's folder, command-line
// values relative to the working directory; absolute paths as given.
TEST(ProfileReader, PathsResolveOneWay) {
  TempDir d("reader_paths");
  const ProfileGroup g = train_group(d, {{"name", "cli/x.pth"}});
  const fs::path dir = fs::absolute(d.path()).lexically_normal();
  EXPECT_EQ(g.path("weights"), (dir / "w/d.pth").string());
  EXPECT_EQ(g.path("abs"), "/x/z.pth");
  EXPECT_EQ(g.path("name"), (fs::current_path() / "cli/x.pth").lexically_normal().string());
  EXPECT_EQ(g.path("empty"), "");
  EXPECT_EQ(g.path("absent"), "");
  // A profile built in code (no file): relative to the working directory, errors say <profile>.
  const ProfileGroup code("", "cpr", {{"w", "a/b.pth"}, {"k", "x"}});
  EXPECT_EQ(code.path("w"), (fs::current_path() / "a/b.pth").lexically_normal().string());
  expect_error<ProfileError>([&] { code.integer("k", 1, 1, 5); }, {"<profile>: [cpr] k: 'x' is not an integer"});
}

TEST(ProfileReader, ParsersWithoutContext) {
  EXPECT_EQ(ProfileGroup::parse_integer("-3", -5, 5), -3);
  expect_error<ProfileError>([] { ProfileGroup::parse_integer("99999999999999999999999", 0, 10); }, {"out of range"});
  EXPECT_DOUBLE_EQ(ProfileGroup::parse_number("1e-3", 0, 1), 1e-3);
  expect_error<ProfileError>([] { ProfileGroup::parse_number("nan", 0, 1); }, {"'nan' is not a number"});
  expect_error<ProfileError>([] { ProfileGroup::parse_number("0", 0, 1, Bound::LowOpen); }, {"0 < value <= 1"});
  EXPECT_FALSE(ProfileGroup::parse_boolean("No"));
  EXPECT_EQ(ProfileGroup::integer_range(1, std::numeric_limits<int>::max()), "integer >= 1");
  EXPECT_EQ(ProfileGroup::number_range(0, 1, Bound::Closed), "0 <= value <= 1");
}

TEST(ProfileReader, DuplicateKeysNameBothLines) {
  TempDir d("reader_dup");
  const std::string ini = d.write("dup.ini", "[train]\nsteps = 1\n\n[train]\nsteps = 2\n");
  expect_error<ProfileError>([&] { check_duplicate_keys(ini); },
                             {ini + ":5: [train] steps: key given twice (first on line 2)"});
  EXPECT_EQ(profile_line(ini, "train", ""), 1);
  EXPECT_EQ(profile_line(ini, "train", "steps"), 2);
  EXPECT_EQ(profile_line(ini, "train", "nope"), 0);
}
