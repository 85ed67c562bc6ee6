--- :Pairline install — the server set up by the plugin: a virtualenv in
--- `stdpath("data")/pairline/venv` with pairline installed by pip from the repository this
--- plugin lives in. Asynchronous, with progress; a failed or cancelled install leaves nothing
--- behind (a previous working install is put back).
local M = {}

local is_win = vim.fn.has("win32") == 1

--- The oldest Python the server supports (pyproject.toml's requires-python).
M.min_python = { 3, 11 }

-- Written into the virtualenv once everything worked: a virtualenv without it is half-made.
local MARKER = "pairline-installed.json"

--- Where the managed server lives.
---@return string
function M.venv()
  return vim.fs.joinpath(vim.fn.stdpath("data"), "pairline", "venv")
end

---@param venv string
---@return string
local function venv_python(venv)
  return is_win and vim.fs.joinpath(venv, "Scripts", "python.exe") or vim.fs.joinpath(venv, "bin", "python")
end

--- The repository holding this plugin (lua/pairline/install.lua is five levels below it), or
--- nil with the reason when the plugin was copied out of a clone.
---@return string? root, string? err
function M.repo_root()
  local here = debug.getinfo(1, "S").source:sub(2)
  local root = vim.fn.fnamemodify(here, ":p:h:h:h:h:h")
  local pyproject = vim.fs.joinpath(root, "pyproject.toml")
  local ok, lines = pcall(vim.fn.readfile, pyproject)
  if ok and vim.iter(lines):any(function(l)
    return l:match('^name%s*=%s*"pairline"')
  end) then
    return root
  end
  return nil,
    ("the plugin is not inside a pairline repository (no pairline pyproject.toml at %s): point the plugin at editor-clients/nvim of a clone, or install the server yourself and set `cmd`"):format(
      root
    )
end

--- pairline's version in the repository (pyproject.toml), to tell a stale install.
---@param root string
---@return string?
local function repo_version(root)
  local ok, lines = pcall(vim.fn.readfile, vim.fs.joinpath(root, "pyproject.toml"))
  for _, l in ipairs(ok and lines or {}) do
    local v = l:match('^version%s*=%s*"([^"]+)"')
    if v then
      return v
    end
  end
end

---@class pairline.Installed
---@field python string The virtualenv's interpreter.
---@field version string? pairline's version when installed.
---@field source string The repository it was installed from.

--- The finished managed install, or nil.
---@return pairline.Installed?
function M.installed()
  local venv = M.venv()
  local ok, lines = pcall(vim.fn.readfile, vim.fs.joinpath(venv, MARKER))
  if not ok then
    return nil
  end
  local decoded, info = pcall(vim.json.decode, table.concat(lines, "\n"))
  local python = venv_python(venv)
  if not decoded or type(info) ~= "table" or vim.fn.executable(python) ~= 1 then
    return nil
  end
  return { python = python, version = info.version, source = info.source or "?" }
end

--- The repository's version when it differs from the installed one (an update is due).
---@return string?
function M.stale()
  local installed = M.installed()
  local root = M.repo_root()
  local want = root and repo_version(root)
  if installed and want and installed.version ~= want then
    return want
  end
end

--- The command the plugin runs when `cmd` is not set: `pairline` on PATH first, then the
--- managed install, else `pairline serve` (which :checkhealth then explains).
---@return string[] cmd, "path"|"managed"|"missing" source
function M.default_cmd()
  if vim.fn.executable("pairline") == 1 then
    return { "pairline", "serve" }, "path"
  end
  local installed = M.installed()
  if installed then
    -- `python -m` rather than the venv's `pairline` script: no shebang to go stale.
    return { installed.python, "-m", "pairline", "serve" }, "managed"
  end
  return { "pairline", "serve" }, "missing"
end

-- --- what to install, per platform ------------------------------------------------------

local function platform()
  if is_win then
    return "windows"
  elseif vim.fn.has("mac") == 1 then
    return "mac"
  end
  return "linux"
end

local advice = {
  python = {
    linux = "install Python 3.11 or newer (Debian/Ubuntu: `sudo apt install python3.12 python3.12-venv`; Fedora: `sudo dnf install python3.12`; Arch: `sudo pacman -S python`)",
    mac = "install Python 3.11 or newer (`brew install python@3.12`, or python.org)",
    windows = "install Python 3.11 or newer (`winget install Python.Python.3.12`, or python.org)",
  },
  venv = {
    linux = "install the venv module for it (Debian/Ubuntu: `sudo apt install python3-venv`, or python3.X-venv for that version)",
    mac = "use a Python with the venv module (`brew install python@3.12`)",
    windows = "reinstall Python from python.org (it includes venv)",
  },
  compiler = {
    linux = "install a C/C++ compiler (Debian/Ubuntu: `sudo apt install build-essential cmake`; Fedora: `sudo dnf install gcc-c++ cmake`; Arch: `sudo pacman -S base-devel cmake`)",
    mac = "install the Xcode command line tools (`xcode-select --install`) and CMake (`brew install cmake`)",
    windows = 'install Visual Studio Build Tools with "Desktop development with C++" (it includes CMake)',
  },
  cmake = {
    linux = "install CMake (Debian/Ubuntu: `sudo apt install cmake`; Fedora: `sudo dnf install cmake`; Arch: `sudo pacman -S cmake`)",
    mac = "install CMake (`brew install cmake`)",
    windows = 'install CMake (`winget install Kitware.CMake`, or Visual Studio Build Tools with "Desktop development with C++")',
  },
}

---@param what "python"|"venv"|"compiler"|"cmake"
---@return string
function M.advice(what)
  return advice[what][platform()]
end

-- --- prerequisites ------------------------------------------------------------------------

--- A C/C++ compiler llama.cpp's build would find ($CC/$CXX first), or nil.
---@return string?
function M.compiler()
  local candidates = is_win and { "cl", "clang-cl", "g++" }
    or { os.getenv("CXX") or "", "c++", "g++", "clang++", os.getenv("CC") or "", "cc", "gcc", "clang" }
  for _, exe in ipairs(candidates) do
    if exe ~= "" and vim.fn.executable(exe) == 1 then
      return vim.fn.exepath(exe)
    end
  end
end

---@return string?
function M.cmake()
  return vim.fn.executable("cmake") == 1 and vim.fn.exepath("cmake") or nil
end

-- Prints the version, the interpreter's path, and whether venv can make a virtualenv with pip.
local PROBE = [[
import sys
print("%d.%d" % sys.version_info[:2])
print(sys.executable)
try:
    import ensurepip, venv
    print("venv")
except ImportError:
    print("no-venv")
]]

---@class pairline.Python
---@field exe string
---@field version string
---@field venv boolean

--- Run `argv`, returning its result; inside the install coroutine only.
---@param argv string[]
---@param opts? vim.SystemOpts
---@return vim.SystemCompleted
local function await(argv, opts)
  local co = coroutine.running()
  local ok, job = pcall(vim.system, argv, opts or { text = true }, function(result)
    vim.schedule(function()
      coroutine.resume(co, result)
    end)
  end)
  if not ok then
    return { code = 127, signal = 0, stdout = "", stderr = tostring(job) }
  end
  M.job = job
  local result = coroutine.yield()
  M.job = nil
  return result
end

---@param version string
local function new_enough(version)
  local major, minor = version:match("^(%d+)%.(%d+)$")
  major, minor = tonumber(major), tonumber(minor)
  return major ~= nil and (major > M.min_python[1] or (major == M.min_python[1] and minor >= M.min_python[2]))
end

--- The first Python >= 3.11 with venv: `install.python` when set, else python3/python and
--- the versioned names on PATH. Runs inside the install coroutine.
---@param wanted string?
---@param run fun(argv: string[], opts: vim.SystemOpts): vim.SystemCompleted
---@return pairline.Python? python, string? err
local function find_python(wanted, run)
  local candidates = wanted and { wanted } or { "python3", "python", "python3.13", "python3.12", "python3.11" }
  local seen = {}
  for _, name in ipairs(candidates) do
    local exe = vim.fn.exepath(vim.fn.expand(name))
    if exe == "" then
      seen[#seen + 1] = name .. ": not found"
    else
      local result = run({ exe, "-c", PROBE }, { text = true, timeout = 30000 })
      local lines = vim.split(result.stdout or "", "\n", { trimempty = true })
      if result.code ~= 0 or #lines < 3 then
        seen[#seen + 1] = name .. ": does not run"
      elseif not new_enough(lines[1]) then
        seen[#seen + 1] = ("%s: Python %s"):format(name, lines[1])
      elseif lines[3] ~= "venv" then
        return nil, ("%s (Python %s) has no venv module: %s"):format(name, lines[1], M.advice("venv"))
      else
        return { exe = exe, version = lines[1], venv = true }
      end
    end
  end
  local what = wanted and ("install.python = %q"):format(wanted) or "python3/python on PATH"
  return nil,
    ("no Python %d.%d or newer found (%s; %s): %s, or name one with `install = { python = ... }` in setup()"):format(
      M.min_python[1],
      M.min_python[2],
      what,
      table.concat(seen, ", "),
      M.advice("python")
    )
end

-- --- :checkhealth ------------------------------------------------------------------------

---@param argv string[]
---@param opts vim.SystemOpts
---@return vim.SystemCompleted
local function run_now(argv, opts)
  local ok, result = pcall(function()
    return vim.system(argv, opts):wait()
  end)
  return ok and result or { code = 127, signal = 0, stdout = "", stderr = tostring(result) }
end

--- :checkhealth lines for the server command: what runs, or exactly what is missing and the
--- command that fixes it. Returns the command to ask `pairline doctor` with, or nil.
---@return string[]?
function M.check_health()
  local health = vim.health
  local config = require("pairline.config")
  if config.user_cmd then
    local cmd = config.options.cmd
    if vim.fn.executable(cmd[1]) == 1 then
      health.ok(("server command: %s"):format(table.concat(cmd, " ")))
      return cmd
    end
    health.error(("server command not found: %q (`cmd` in setup())"):format(cmd[1]), {
      "fix `cmd` in setup(), or remove it to use `pairline` on PATH or the server `:Pairline install` sets up",
    })
    return nil
  end
  -- Looked up again: an install may have finished since setup().
  local cmd, source = M.default_cmd()
  if source == "path" then
    health.ok(
      ("server command: %s (`pairline` on PATH: %s)"):format(table.concat(cmd, " "), vim.fn.exepath("pairline"))
    )
    return cmd
  elseif source == "managed" then
    health.ok(("server command: %s (set up by :Pairline install)"):format(table.concat(cmd, " ")))
    local newer = M.stale()
    if newer then
      health.warn(("the installed server is older than the repository's pairline %s"):format(newer), {
        "run :Pairline install to update it",
      })
    end
    return cmd
  end
  if M.running() then
    health.warn(
      "the server is being installed (" .. M.progress.step .. "); run :checkhealth pairline again when it ends"
    )
    return nil
  end
  local venv = M.venv()
  health.error(("no server: `pairline` is not on PATH and none is installed in %s"):format(venv), {
    "run :Pairline install (builds the server from this repository; the llama.cpp build takes about 10 minutes on 2 cores)",
    "or install pairline yourself and set `cmd` in setup()",
  })
  -- What :Pairline install needs, so that it does not fail on the first missing piece.
  local root, err = M.repo_root()
  if root then
    health.ok("repository to install from: " .. root)
  else
    health.error(err --[[@as string]])
  end
  local wanted = config.options.install.python
  local python, python_err = find_python(wanted, run_now)
  if python then
    health.ok(("Python %s for the install: %s"):format(python.version, python.exe))
  else
    health.error(python_err --[[@as string]])
  end
  local compiler = M.compiler()
  if compiler then
    health.ok("C/C++ compiler: " .. compiler)
  else
    health.error("no C/C++ compiler (building llama.cpp needs one)", { M.advice("compiler") })
  end
  local cmake = M.cmake()
  if cmake then
    health.ok("CMake: " .. cmake)
  else
    health.warn("no CMake (pip will try the cmake package from PyPI)", { M.advice("cmake") })
  end
  return nil
end

-- --- progress -------------------------------------------------------------------------

---@type { step: string, line: string }? what the running install is doing
M.progress = nil

local function emit(state, message)
  vim.api.nvim_exec_autocmds(
    "User",
    { pattern = "PairlineInstall", modeline = false, data = { state = state, message = message } }
  )
  vim.cmd.redrawstatus({ bang = true, mods = { silent = true } })
end

---@param label string what the status line shows
---@param message string what the notification says
local function step(label, message)
  M.progress = { step = label, line = "" }
  vim.notify("pairline: " .. message, vim.log.levels.INFO)
  emit("running", message)
end

-- pip's lines worth a notification; the others only reach the status line.
local LOUD = { "^Building wheel", "^Installing collected", "^Successfully", "^Processing " }

---@param line string
local function pip_line(line)
  line = vim.trim(line)
  if line == "" or not M.progress then
    return
  end
  M.progress.line = line
  for _, pattern in ipairs(LOUD) do
    if line:find(pattern) then
      vim.notify("pairline: pip: " .. line, vim.log.levels.INFO)
      break
    end
  end
  emit("running", line)
end

--- A line for a statusline while an install runs, else "".
---@return string
function M.statusline()
  if not M.progress then
    return ""
  end
  return "pairline: installing (" .. M.progress.step .. ")"
end

-- --- the install ---------------------------------------------------------------------

--- The reason pip failed, in words a user can act on, from its output.
---@param output string
---@return string
local function pip_failure(output)
  if output:find("CMAKE_C_COMPILER", 1, true) or output:find("CMAKE_CXX_COMPILER", 1, true) then
    return "building llama.cpp found no C/C++ compiler: " .. M.advice("compiler")
  end
  local lower = output:lower()
  for _, missing in ipairs({
    "cmake: not found",
    "cmake was not found",
    "cmake not found",
    "'cmake'",
    "could not find cmake",
  }) do
    if lower:find(missing, 1, true) then
      return "building llama.cpp found no CMake: " .. M.advice("cmake")
    end
  end
  local lines = vim.split(vim.trim(output), "\n")
  return "pip install failed:\n" .. table.concat(vim.list_slice(lines, math.max(1, #lines - 15)), "\n")
end

---@return string
local function log_path()
  return vim.fs.joinpath(vim.fn.stdpath("log"), "pairline-install.log")
end

--- Remove a half-made virtualenv and put back the install it replaces, if any.
---@param venv string
local function roll_back(venv)
  vim.fn.delete(venv, "rf")
  if vim.uv.fs_stat(venv .. ".old") then
    vim.uv.fs_rename(venv .. ".old", venv)
  end
end

-- Left by an install Neovim did not live to finish: a virtualenv without the marker, or the
-- previous install set aside.
local function clean_leftovers(venv)
  if vim.uv.fs_stat(venv) and not vim.uv.fs_stat(vim.fs.joinpath(venv, MARKER)) then
    roll_back(venv)
  elseif vim.uv.fs_stat(venv .. ".old") then
    vim.fn.delete(venv .. ".old", "rf")
  end
end

M.cancelled = false
-- Whether the running install has begun changing the virtualenv (so a failure must roll back).
M.touched = false

---@param opts { python: string?, pip_args: string[], env: table<string, string> }
---@return boolean ok, string message
local function install(opts)
  step("checking", "checking what the install needs (Python >= 3.11, a C/C++ compiler, CMake)")
  local root, err = M.repo_root()
  if not root then
    return false, err --[[@as string]]
  end
  local python
  python, err = find_python(opts.python, await)
  if M.cancelled then
    return false, "cancelled"
  elseif not python then
    return false, err --[[@as string]]
  end
  -- pip args may name prebuilt wheels (--find-links, an index): then no build tools are needed.
  local prebuilt = #opts.pip_args > 0
  if not M.compiler() then
    if not prebuilt then
      return false, "no C/C++ compiler found, needed to build llama.cpp: " .. M.advice("compiler")
    end
    vim.notify("pairline: no C/C++ compiler found; relying on your pip args for a prebuilt llama-cpp-python")
  end
  if not M.cmake() and not prebuilt then
    -- llama-cpp-python's build backend fetches CMake from PyPI when none is installed.
    vim.notify("pairline: no CMake found; pip will try the cmake package. If the build fails: " .. M.advice("cmake"))
  end

  local venv = M.venv()
  vim.fn.mkdir(vim.fs.dirname(venv), "p")
  clean_leftovers(venv)
  -- From here on a failure rolls back: removes the new virtualenv, puts back the old one.
  M.touched = true
  if vim.uv.fs_stat(venv) then
    -- A reinstall: the working one is set aside until the new one works.
    local ok, rename_err = vim.uv.fs_rename(venv, venv .. ".old")
    if not ok then
      M.touched = false
      return false, ("cannot move the previous install aside: %s"):format(rename_err)
    end
  end

  step("virtualenv", ("creating a virtualenv with Python %s (%s)"):format(python.version, python.exe))
  local result = await({ python.exe, "-m", "venv", venv })
  if M.cancelled then
    return false, "cancelled"
  elseif result.code ~= 0 then
    return false, ("`%s -m venv` failed: %s"):format(python.exe, vim.trim(result.stderr or ""))
  end

  step(
    "pip",
    "pip install pairline from " .. root .. " (building llama.cpp is the long part: about 10 minutes on 2 cores)"
  )
  local output = {}
  local partial = ""
  local function on_output(_, data)
    if not data then
      return
    end
    output[#output + 1] = data
    local lines = vim.split(partial .. data, "\n")
    partial = table.remove(lines)
    vim.schedule(function()
      for _, line in ipairs(lines) do
        pip_line(line)
      end
    end)
  end
  local argv = { venv_python(venv), "-m", "pip", "install", "--progress-bar", "off" }
  vim.list_extend(argv, opts.pip_args)
  argv[#argv + 1] = root
  result = await(argv, {
    text = true,
    stdout = on_output,
    stderr = on_output,
    -- The build's own output is quiet unless it fails; pip says "still running" meanwhile.
    env = vim.tbl_extend("force", { PIP_DISABLE_PIP_VERSION_CHECK = "1", PYTHONUNBUFFERED = "1" }, opts.env),
  })
  local text = table.concat(output)
  pcall(vim.fn.writefile, vim.split(table.concat(argv, " ") .. "\n" .. text, "\n"), log_path())
  if M.cancelled then
    return false, "cancelled"
  elseif result.code ~= 0 then
    return false, pip_failure(text) .. "\n(full log: " .. log_path() .. ")"
  end

  step("verifying", "checking the installed server")
  result = await({ venv_python(venv), "-m", "pairline", "--version" })
  if M.cancelled then
    return false, "cancelled"
  elseif result.code ~= 0 then
    return false, "the installed server does not start: " .. vim.trim((result.stderr or "") .. (result.stdout or ""))
  end
  local info = { version = repo_version(root), source = root, python = python.exe }
  vim.fn.writefile({ vim.json.encode(info) }, vim.fs.joinpath(venv, MARKER))
  vim.fn.delete(venv .. ".old", "rf")
  return true, vim.trim(result.stdout or "pairline") .. " installed in " .. venv
end

--- After a successful install, a plugin set up without `cmd` switches to the new server.
local function use_new_server()
  local pairline = require("pairline")
  local config = require("pairline.config")
  if pairline.did_setup and not config.user_cmd then
    config.options.cmd = M.default_cmd()
    local client = require("pairline.client")
    client.setup()
    -- A reinstall: servers still running the replaced one start again on the new one.
    if #client.clients() > 0 then
      client.restart()
    end
  end
end

---@return boolean
function M.running()
  return M.progress ~= nil
end

--- Start installing; `on_done(ok, message)` runs when it ends.
---@param on_done? fun(ok: boolean, message: string)
function M.run(on_done)
  if M.running() then
    vim.notify("pairline: an install is already running (`:Pairline install cancel` stops it)", vim.log.levels.WARN)
    return
  end
  local options = require("pairline.config").options.install
  M.cancelled = false
  M.touched = false
  local co = coroutine.create(function()
    -- LuaJIT's pcall lets the install yield; a Lua error still ends in the roll back below.
    local done, ok, message = pcall(install, options)
    if not done then
      ok, message = false, tostring(ok)
    end
    M.progress = nil
    if ok then
      vim.notify("pairline: " .. message, vim.log.levels.INFO)
      use_new_server()
    else
      if M.touched then
        roll_back(M.venv())
      end
      local why = message == "cancelled" and "install cancelled" or ("install failed: " .. message)
      vim.notify("pairline: " .. why .. " (nothing was left behind)", vim.log.levels.ERROR)
      message = why
    end
    emit(ok and "done" or "failed", message)
    if on_done then
      on_done(ok, message)
    end
  end)
  local ok, err = coroutine.resume(co)
  if not ok then
    M.progress = nil
    if M.touched then
      roll_back(M.venv())
    end
    vim.notify("pairline: install failed: " .. tostring(err), vim.log.levels.ERROR)
  end
end

--- Stop a running install; what it made so far is removed.
function M.cancel()
  if not M.running() then
    vim.notify("pairline: no install is running")
    return
  end
  M.cancelled = true
  if M.job then
    M.job:kill(is_win and "sigkill" or "sigterm")
  end
end

--- `:Pairline install [cancel]`. Without a UI (`nvim --headless "+Pairline install" +qa`, a
--- plugin manager's headless sync) it waits for the end, so quitting does not cut it short.
---@param args string[]
function M.command(args)
  if args[1] == "cancel" then
    M.cancel()
    return
  elseif args[1] then
    vim.notify("pairline: `:Pairline install` takes no argument but `cancel`", vim.log.levels.ERROR)
    return
  end
  M.run()
  if #vim.api.nvim_list_uis() == 0 then
    vim.wait(24 * 3600 * 1000, function()
      return not M.running()
    end, 200)
  end
end

-- Neovim quitting mid-install: stop pip and leave no half-made virtualenv.
vim.api.nvim_create_autocmd("VimLeavePre", {
  group = vim.api.nvim_create_augroup("pairline.install", { clear = true }),
  callback = function()
    if M.running() then
      M.cancelled = true
      if M.job then
        M.job:kill("sigkill")
        pcall(M.job.wait, M.job, 5000)
      end
      if M.touched then
        roll_back(M.venv())
      end
    end
  end,
})

return M
