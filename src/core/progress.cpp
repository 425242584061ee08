#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/log.h"

namespace sg {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02d}", s / 60, s % 60);
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::rate() const {
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return secs > 0 ? static_cast<double>(done_) / secs : 0.0;
}

void Progress::advance(int64_t n) { set(done_ + n); }

void Progress::set(int64_t done) {
  done_ = done;
  report(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  report(true);
}

void Progress::report(bool final) {
  const auto now = std::chrono::steady_clock::now();
  const int decile = total_ > 0 ? static_cast<int>(10 * done_ / total_) : 0;
  const bool due = final || (tty_ ? now - last_print_ > std::chrono::milliseconds(500)
                                  : decile != last_decile_);
  if (!due) return;
  last_print_ = now;
  last_decile_ = decile;
  const double r = rate();
  const double eta = r > 0 && total_ > 0 ? static_cast<double>(total_ - done_) / r : NAN;
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 0;
  const std::string line = fmt::format("{} {:3.0f}% {}/{} {:.2f} {}/s ETA {}", label_, pct, done_,
                                       total_, r, unit_, format_duration(final ? 0.0 : eta));
  if (log::level() <= log::Level::info) {
    if (tty_ && !final)
      std::fprintf(stderr, "\r%s\033[K", line.c_str());
    else
      std::fprintf(stderr, "%s%s\n", tty_ ? "\r" : "", line.c_str());
  }
  log::event("progress", {{"label", label_}, {"done", done_}, {"total", total_},
                          {"rate", r}, {"unit", unit_}, {"eta_s", std::isfinite(eta) ? eta : -1.0}});
}

}  // namespace sg
