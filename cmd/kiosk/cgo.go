//go:build cgo

package main

// haveGLFW: this build has GLFW windows (display/glfwscreen needs cgo).
const haveGLFW = true
