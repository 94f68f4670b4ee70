//go:build !cgo || noglfw

package main

// haveGLFW: this build has GLFW windows (display/glfwscreen needs cgo and
// the X11/OpenGL headers, which the noglfw tag does without).
const haveGLFW = false
