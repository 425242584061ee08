#include "core/signals.h"

#include <pthread.h>
#include <signal.h>

#include <csignal>
#include <initializer_list>

namespace sg {
namespace {
volatile std::sig_atomic_t g_signal = 0;
volatile std::sig_atomic_t g_count = 0;

extern "C" void on_stop_signal(int signo) {
  if (g_signal == 0) g_signal = signo;
  if (g_count < 1000) g_count = g_count + 1;
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) sigaction(s, &sa, nullptr);
  // A process started under `shadegan signal-shield` (the Slurm job script's launcher) inherits
  // SIGTERM and SIGINT blocked; the ranks that do the work must receive them.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) sigaddset(&set, s);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

bool stop_requested() { return g_signal != 0; }
int stop_signal() { return g_signal; }
int stop_count() { return g_count; }
void request_stop(int signo) { on_stop_signal(signo); }
void clear_stop() {
  g_signal = 0;
  g_count = 0;
}

}  // namespace sg
