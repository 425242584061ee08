#pragma once
// Progress of long work: "label  37% 370/1000  12.3 it/s  ETA 0:51" on stderr at most twice a
// second (only when stderr is a terminal, or every 10% otherwise, so batch logs stay short),
// and a JSON "progress" event into the run's log at the same moments.
#include <chrono>
#include <cstdint>
#include <string>

namespace sg {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "it");
  void advance(int64_t n = 1);
  void set(int64_t done);
  void finish();
  double rate() const;  // units per second since start
  int64_t done() const { return done_; }

 private:
  void report(bool final);
  std::string label_, unit_;
  int64_t total_, done_ = 0;
  int last_decile_ = -1;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_print_;
};

// "1:02:03" or "2:03".
std::string format_duration(double seconds);

}  // namespace sg
