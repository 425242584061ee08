#pragma once
// Stop requests from signals. Handlers only set a flag; long work polls stop_requested() at
// safe points (between iterations, between tasks) and winds down cleanly. Training all-reduces
// the flag so every MPI rank stops after the same iteration.
namespace sg {

// Install the flag-setting handler for SIGUSR1, SIGUSR2, SIGTERM and SIGINT, and unblock them
// (they arrive blocked under app/signal_shield_cmd.cpp's launcher).
void install_stop_handlers();
bool stop_requested();
int stop_signal();  // the first signal received, 0 if none
int stop_count();   // how many stop signals arrived (a second Ctrl-C means "now")
void request_stop(int signo);  // for tests and for forwarding
void clear_stop();

}  // namespace sg
