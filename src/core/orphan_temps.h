#pragma once
// Temporaries left behind by a writer killed between creating and renaming them (kill -9, the
// OOM killer, a node reboot): atomic_file.h's "<dir>/.<name>.tmp-<pid>" (JSON, markers, shards
// written by HDF5) and a checkpoint's "<ckpt>/.tmp-step-NNNNNNN-<pid>" directory. Each names its
// writer's pid, so one is an orphan when that pid is no longer a process of this host.
//
// Collection is safe only where no writer of another host can be at work in the directory: a
// stage about to start (under the run lock, its previous attempt gone, no Slurm job of it
// queued), or a train directory under its trainer's lock. A live pid's temporary is never
// removed (a pid reused since keeps its file: the safe mistake).
#include <string>
#include <vector>

namespace sg {

// The prefix of a checkpoint set aside while the same step is rewritten (train/checkpoint.cpp):
// "<ckpt>/.tmp-old-<step name>". Not an orphan: the checkpoint listing trusts it when the
// rewrite died before the new copy took the name, and pruning removes it otherwise.
inline constexpr char kAsidePrefix[] = ".tmp-old-";

// kill(pid, 0) succeeds or is refused for permissions: a process of that pid exists here.
bool pid_alive(int pid);

// The writer's pid in one of the names above; -1 for any other name (".tmp-old-step-*", a
// checkpoint set aside while it is replaced, is not an orphan: prune decides about it).
int temp_owner_pid(const std::string& filename);

// Removes every temporary under `dir` (recursively; symbolic links are neither followed nor
// removed) whose owner is dead and is not this process. Each removal is logged with its size;
// the paths removed are returned. Nothing happens when `dir` does not exist.
std::vector<std::string> collect_orphan_temps(const std::string& dir);

}  // namespace sg
