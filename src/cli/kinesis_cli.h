// `streamlake kinesis tail|put|ls`: quick work with streams without the AWS CLI, over the
// Kinesis API (SigV4 with the data directory's credentials, plain HTTP/1.1).
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace sl::cli {

// Adds the `kinesis` command and its subcommands to `app`; after parsing, if the returned
// command was parsed, `*run()` runs the chosen subcommand and returns the exit code.
CLI::App* add_kinesis_command(CLI::App& app, std::function<int()>* run);

}  // namespace sl::cli
